# Two entry points: `make demo` (train a tiny model on the synthetic task and show it improved)
# and `make test` (the whole suite). Both create or update .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
# A matched pair that installs from this machine's disk; on aarch64 use torch==2.9.1 torchvision==0.24.1.
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1

.PHONY: install demo test clean-demo

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[test,perception,semantic,tensorboard,wandb,trackio]"
	touch $@

install: $(VENV)/.installed

demo: install
	PATH="$(abspath $(VENV))/bin:$$PATH" bash examples/demo.sh

test: install
	$(PY) -m pytest -q

clean-demo:
	rm -rf runs/demo
