"""A class on one machine: ``make hub`` / ``tierlab hub`` starts a JupyterHub on 127.0.0.1.

    tierlab hub --learners 30                  # accounts tierlab-01 .. tierlab-30, passwords in DATA/passwords.txt
    tierlab hub --names ada,bob --port 8000    # accounts tierlab-ada, tierlab-bob
    tierlab hub --db-url postgresql://admin:PW@db.example.org/postgres   # the class's own PostgreSQL

    from tierlab.hub import ClassHub
    with ClassHub(learners=5).start() as hub:   # what the hub test and benchmarks/bench_hub.py use
        hub.start_server("tierlab-01")
        hub.run_code("tierlab-01", "import tierlab as tl; tl.database()")

The choices, and why:

* **Accounts without system users.** Each learner ``tierlab-NAME`` gets a numeric uid of its own
  (from 61000 up, none that ``/etc/passwd`` knows) and a home ``DATA/homes/tierlab-NAME`` (mode
  0700, owned by that uid); JupyterHub's ``LocalProcessSpawner`` starts the learner's JupyterLab
  with that uid and home. So A cannot read B's notebooks, session folder, progress file or
  kernel connection files (the kernel's HMAC key), and nothing is added to the machine's account
  database. That needs root and an environment (the checkout's ``.venv``) readable by others; when
  either is missing the hub still runs, every learner under the instructor's account, and says so
  (``hub.isolation``).
* **Logins**: one generated password per learner (``DATA/passwords.txt``, 0600, for the
  instructor to hand out), checked by :class:`~tierlab.hub.jh.TierlabAuthenticator`. A shared
  class password (DummyAuthenticator) would let any learner log in as any other.
* **One shared PostgreSQL, one database and role per learner** (``tierlab_NAME`` owns database
  ``tierlab_NAME``; ``CONNECT`` revoked from everyone else; a password only the learner's server
  knows, passed as ``$TIERLAB_DATABASE_URL``, so ``tl.database()`` in the course just works).
  One server costs one postmaster and its shared buffers for the whole class instead of one per
  learner (~30-40 MB each, measured by ``benchmarks/bench_hub.py``), and per-learner roles still
  isolate: B's password does not open A's database and B's role may not connect to it. Without
  ``--db-url`` tierlab starts that server itself (the embedded PostgreSQL of ``tierlab.db``).
* **Idle servers culled** by ``jupyterhub-idle-culler`` (a hub service; 30 min by default).
* **Loopback only**: the proxy, the hub and every learner's server listen on 127.0.0.1. Put a TLS
  reverse proxy in front to open it to a room.
"""

from __future__ import annotations

from .classroom import LEARNER_PREFIX, ClassHub, learner_names

__all__ = ["ClassHub", "LEARNER_PREFIX", "learner_names"]
