"""A class on one machine: ``make hub`` / ``tierlab hub`` starts a JupyterHub on 127.0.0.1.

    tierlab hub --learners 30                  # accounts tierlab-01 .. tierlab-30, passwords in DATA/passwords.txt
    tierlab hub --names ada,bob --port 8000    # accounts tierlab-ada, tierlab-bob
    tierlab hub --db-url postgresql://admin:PW@db.example.org/postgres   # the class's own PostgreSQL

    from tierlab.hub import ClassHub
    with ClassHub(learners=5).start() as hub:   # what the hub test and benchmarks/bench_hub.py use
        hub.start_server("tierlab-01")
        hub.run_code("tierlab-01", "import tierlab as tl; tl.database()")

The choices, and why:

* **Real accounts, removed afterwards.** As root, each learner ``tierlab-NAME`` is a Unix account made with
  ``useradd`` (no login shell, a group of its own, the comment ``tierlab hub PID START``) with a home
  ``DATA/homes/tierlab-NAME`` (0700, theirs); the admin runs as ``tierlab-instructor``. The learner's JupyterLab
  runs as that account, so A cannot read B's notebooks, session folder, progress file or kernel connection files
  (the kernel's HMAC key). When the hub stops, the accounts' processes end and the accounts go (``userdel``), with
  their homes unless ``--keep-work`` (progress files are saved to DATA/progress/ first). A run that was killed
  leaves its accounts: the next start removes them, and only accounts whose comment carries the mark of a hub
  that no longer runs (never ``tierlab-pg``, nor another running hub's). That needs root, ``useradd``/``userdel``
  (Debian's passwd package) and an environment other accounts can run (``.venv-learners``); without them the hub
  runs every learner under the instructor's account and says so (``hub.isolation``).
* **Logins**: one generated password per learner (``DATA/passwords.txt``, 0600, for the
  instructor to hand out), checked by :class:`~tierlab.hub.jh.TierlabAuthenticator`. A shared
  class password (DummyAuthenticator) would let any learner log in as any other.
* **One shared PostgreSQL, one database and role per learner** (``tierlab_NAME`` owns database
  ``tierlab_NAME``; ``CONNECT`` revoked from everyone else; a password only the learner's server
  knows, passed as ``$TIERLAB_DATABASE_URL``, so ``tl.database()`` in the course just works).
  One server costs one postmaster and its shared buffers for the whole class instead of one per
  learner (~30-40 MB each, measured by ``benchmarks/bench_hub.py``), and per-learner roles still
  isolate: B's password does not open A's database and B's role may not connect to it. Without
  ``--db-url`` tierlab starts that server itself (the embedded PostgreSQL of ``tierlab.db``), and its rows go with
  it when the hub stops. On the instructor's server (``--db-url``) the hub drops, when it stops, the roles and
  databases it created (a class's rows are as temporary as its homes; never one that was there before it started);
  ``--keep-work`` keeps them, with the homes, for the next session.
* **A JupyterHub that dies is started again** (``ClassHub.wait``, what ``tierlab hub`` runs): killed by a signal
  (SIGKILL: the OOM killer), it comes back with the same configuration and re-adopts the learners' servers that
  still run (same processes, same kernels); what nobody adopts (the dead hub's idle culler, a kernel whose server
  died) is ended (``ClassHub.revive``). Homes are untouched, so no learner's saved work is lost.
* **Idle servers culled** by ``jupyterhub-idle-culler`` (a hub service; 30 min by default).
* **Loopback only**: the proxy, the hub and every learner's server listen on 127.0.0.1. Put a TLS
  reverse proxy in front to open it to a room.
"""

from __future__ import annotations

from .classroom import LEARNER_PREFIX, ClassHub, learner_names

__all__ = ["ClassHub", "LEARNER_PREFIX", "learner_names"]
