#!/usr/bin/env bash
# Set up (with test extras) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
# Lint first: CI holds the tree at zero findings (ruff's rules as configured in pyproject.toml).
.venv/bin/python -m ruff check --quiet .
# Formatting: the tree is as `ruff format` writes it (line length and style in pyproject.toml).
.venv/bin/python -m ruff format --check --quiet .
# Types: mypy --strict on every policykb module (scripts/typecheck.sh; settings in pyproject.toml).
bash scripts/typecheck.sh
exec .venv/bin/python -m pytest "$@"
