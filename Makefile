# The two commands of the README. Everything else here is their set-up.
PY := .venv/bin/python
.PHONY: lab app test test-fast setup setup-test bench clean
# The heavy tiers (markers registered in pyproject.toml) that test-fast leaves out.
HEAVY := browser or database or notebook or wheel or fuzz or hub or netns or slow
APP_PORT ?= 8866

lab: setup                      ## start JupyterLab on the first notebook (set-up included)
	$(PY) -m tierlab.launch $(LAB_ARGS)

app: setup                      ## the lab app page with Voila on 127.0.0.1: token required, Host checked, idle kernels culled after 600 s (REAL_PACKETS=1: toggles also drive nftables, as root)
	$(PY) -m tierlab.views.serve --port $(APP_PORT) $(if $(REAL_PACKETS),--real-packets)

test: setup-test                ## run the whole test suite (set-up included)
	$(PY) -m pytest

test-fast: setup-test           ## everything but the heavy tiers and slow tests (no notebooks, so nbval stays unloaded)
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -p no:nbval -o addopts=-ra -n auto -m "not ($(HEAVY))" tests

setup:                          ## the lab's packages only, no test tools
	@bash scripts/setup

setup-test:                     ## the lab's packages and the [test] extras
	@bash scripts/setup --test

bench: setup                    ## print the benchmark figures
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .venv .tierlab-setup-* build *.egg-info
