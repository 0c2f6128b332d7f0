# The two commands of the README. Everything else here is their set-up.
PY := .venv/bin/python
.PHONY: lab app hub test test-fast setup setup-test setup-hub bench book clean
# The heavy tiers (markers registered in pyproject.toml) that test-fast leaves out.
HEAVY := browser or database or notebook or wheel or fuzz or hub or netns or book or slow
APP_PORT ?= 8866
HUB_PORT ?= 8000

lab: setup                      ## start JupyterLab on the first notebook (set-up included)
	$(PY) -m tierlab.launch $(LAB_ARGS)

app: setup                      ## the lab app page with Voila on 127.0.0.1: token required, Host checked, idle kernels culled after 600 s (REAL_PACKETS=1: toggles also drive nftables, as root)
	$(PY) -m tierlab.views.serve --port $(APP_PORT) $(if $(REAL_PACKETS),--real-packets)

hub: setup-hub                  ## a JupyterHub for a class on 127.0.0.1:$(HUB_PORT): accounts tierlab-*, one database each (HUB_ARGS="--learners 30")
	$(PY) -m tierlab.cli hub --port $(HUB_PORT) $(HUB_ARGS)

test: setup-test                ## run the whole test suite (set-up included)
	$(PY) -m pytest

# test-fast's property tests run a quarter of their hypothesis examples (the tierlab-fast profile in
# tests/conftest.py); `make test` runs every example each test asks for.
test-fast: setup-test           ## everything but the heavy tiers and slow tests (no notebooks, so nbval stays unloaded), in under 30 s
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -p no:nbval -o addopts=-ra -n auto -m "not ($(HEAVY))" --hypothesis-profile=tierlab-fast tests

setup:                          ## the lab's packages only, no test tools
	@bash scripts/setup

setup-test:                     ## the lab's packages, the [test] and [hub] extras, the hub's proxy (npm)
	@bash scripts/setup --test

setup-hub:                      ## the lab's packages, JupyterHub and its proxy (npm, into node_modules/)
	@bash scripts/setup --hub

bench: setup-hub                ## print the benchmark figures (bench_hub.py starts a hub)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

book: setup                     ## the static edition of the course: build/book/_build/html, from the executed notebooks, offline, no answers
	@$(PY) -c "import jupyter_book" 2>/dev/null || .venv/bin/pip install -q --disable-pip-version-check -e '.[book]'
	.venv/bin/tierlab book build/book --force

clean:
	rm -rf .venv .venv-learners .tierlab-setup-* build *.egg-info node_modules
