#!/usr/bin/env bash
# Type-check the package with mypy --strict (settings in pyproject.toml's [tool.mypy]).
# The stages live in top-level folders installed as policykb.ingest, policykb.index, ... (see
# [tool.setuptools] package-dir), a mapping mypy cannot follow; so mypy runs on a tree of symlinks
# laid out as installed, and the paths it reports are mapped back to the checkout's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/policykb"
ln -s "$root"/policykb/*.py "$tree/policykb/"
for d in ingest index qa ui; do ln -s "$root/$d" "$tree/policykb/$d"; done
cd "$tree"
"$root/.venv/bin/python" -m mypy --config-file "$root/pyproject.toml" --cache-dir "$root/.mypy_cache" \
  -p policykb "$@" | sed -E 's#^policykb/(ingest|index|qa|ui)/#\1/#'
