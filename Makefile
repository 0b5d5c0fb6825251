# Quick start: `make demo`, then `make test`. Both create .venv when it is missing.
# `make test-fast` leaves out tests marked slow (everyday loop); `make fuzz FUZZ_SECONDS=600`
# runs the differential fuzzer of tests/test_fuzz.py for that long.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.threshnet-installed
FUZZ_SECONDS ?= 300
# Test processes (pytest-xdist); each test file runs in one worker, the longest files first
# (tests/conftest.py LONGEST_FILES). TEST_WORKERS=0 runs in-process.
TEST_WORKERS ?= 2
PYTEST = $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# The suite runs the derandomized "ci" Hypothesis profile (tests/conftest.py) unless told otherwise.
export HYPOTHESIS_PROFILE ?= ci

.PHONY: demo test test-fast fuzz bench install clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]'
	@# numba compiles threshnet's large-circuit passes once (about 40 s) and caches them on disk: now,
	@# not in the first big compile or in each test process (src/threshnet/_warm.py).
	$(BIN)/python -m threshnet._warm
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/threshnet compile examples/half_adder.bool
	$(BIN)/threshnet show examples/half_adder.bool
	$(BIN)/threshnet table examples/half_adder.bool

test: $(STAMP)
	$(PYTEST)

# The everyday loop: no test marked slow, and 10 examples per Hypothesis property ("fast" profile).
test-fast: $(STAMP)
	HYPOTHESIS_PROFILE=fast $(PYTEST) -m "not slow"

fuzz: $(STAMP)
	$(BIN)/python tests/test_fuzz.py --seconds $(FUZZ_SECONDS)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/words.py
	$(BIN)/python benchmarks/examples_v2.py
	$(BIN)/python benchmarks/recover.py

# Rebuild docs/tutorial.ipynb from docs/make_tutorial.py and execute it in place (a real Jupyter kernel).
.PHONY: tutorial
tutorial: $(STAMP)
	$(BIN)/python docs/make_tutorial.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
