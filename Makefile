# fedow-node: the two Quick start commands of the README are `make run` and `make test`.
# Both install what they need first (Debian packages and .venv, see scripts/bootstrap.sh).
.PHONY: setup run test bench clean

VENV := .venv
BIN := $(VENV)/bin

setup:
	bash scripts/bootstrap.sh

run: setup
	$(BIN)/fedow-node demo

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/fedow-node bench ledger

clean:
	rm -rf $(VENV) data build *.egg-info
