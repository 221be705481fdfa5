# Two commands do everything on a fresh Debian machine with Python 3.11 (as root):
#   make demo   set up, then run the demo (stub host + plugin)
#   make test   set up, then run ruff, mypy (strict on src/) and the whole test suite
#   make soak   set up, then soak the scheduler: SOAK_TICKS ticks with injected faults (docs/operations.md)
#
# uv is run as `python3 -m uv` so a fresh machine needs nothing but Python and pip.

PYTHON ?= python3
UV := $(PYTHON) -m uv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never

EXAMPLES := examples/erp-exchange-distribution-lists

.PHONY: setup demo test lint typecheck pytest examples bench soak clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet 'uv>=0.5'
	@sh scripts/install-system-packages
	$(UV) sync --locked --all-packages

demo: setup
	$(UV) run --locked erp-exchange demo

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .

typecheck: setup
	$(UV) run --locked mypy

pytest: setup
	$(UV) run --locked pytest

examples: setup
	@for example in $(EXAMPLES); do \
		echo "== $$example"; \
		$(UV) run --locked --directory $$example pytest || exit 1; \
	done

test: lint typecheck pytest examples

bench: setup
	$(UV) sync --locked --all-packages --group bench
	$(UV) run --locked --group bench python bench/run_all.py

# Not part of `make test`: N timer ticks against the emulator with 10 % injected faults and edits on
# both sides; prints items checked, duplicates, losses, conflicts, mean and worst tick time.
SOAK_TICKS ?= 200
soak: setup
	$(UV) run --locked python scripts/soak.py --ticks $(SOAK_TICKS)

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
