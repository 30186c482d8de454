"""Typed settings, read from the environment and an optional ``$POLICYKB_HOME/config.toml``.

Unknown keys are rejected so a typo never silently falls back to a default.

>>> s = Settings.load()
>>> s.home.name  # doctest: +SKIP
'policykb'
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policykb.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "m3e-small"
DEFAULT_CORPUS = REPO_ROOT / "corpus"


def _default_home() -> Path:
    env = os.environ.get("POLICYKB_HOME")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "policykb"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path = Field(default_factory=_default_home)
    corpus: Path = DEFAULT_CORPUS
    # Any sentence-transformers model directory; weights are never downloaded at run time.
    embedding_model: Path = DEFAULT_MODEL_DIR
    embedding_batch_size: int = Field(32, gt=0)
    # The ONNX model's weights: "int8" runs model.int8.onnx (quantized once by scripts/setup.sh; ~2× as fast,
    # same R@5 on the question sets), "fp32" model.onnx (or a folder's weights through torch). Vectors of the
    # two differ: a knowledge base built with one is rebuilt to be searched with the other.
    embedding_precision: Literal["fp32", "int8"] = "int8"
    # Tokens the embedding model sees; longer clauses are split into parts (RELIABILITY 20).
    max_clause_chars: int = Field(360, gt=0)
    # The time limit of parsing one PDF (or .doc), and of reading each page of a scan by OCR: a page is OCR's
    # unit of work as a file is a parser's: a page took 19 s in bench_ocr.py on 2 cores shared at load 5-7.
    parse_timeout_s: float = Field(60.0, gt=0)
    vector_store: Literal["faiss", "milvus"] = "faiss"
    milvus_uri: str | None = None
    # vector_store "faiss": from this many clauses up, an approximate index (IVF, 8-bit codes re-scored on
    # float16 copies) instead of an exact scan. Measured by bench/bench_search.py (docs/benchmarks.md): the
    # exact scan costs ~0.2 ms per 1,000 clauses a query on these 2-core machines, so at 50,000 it still
    # takes under 10 ms and stays exact; at 100,000 the IVF index answers in a fraction of the time with
    # recall@10 ≥ 0.99 against exact.
    ann_min_clauses: int = Field(50_000, gt=0)
    # vector_store "milvus" only: the keyword side is Milvus' own BM25 (jieba analyzer) instead of bm25s.
    milvus_keywords: bool = False
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    writer_wait_seconds: float = Field(300.0, ge=0)  # a second writer (ingest, upload) waits this long
    ui_password: str | None = None  # required by `policykb ui --host` other than loopback; asked by the app
    api_token: str | None = None  # a key for `policykb serve` given in the settings (besides `policykb keys`)
    # With a key configured, reads (search, ask, documents, clauses) need one too unless this is true;
    # writes (upload, edit, delete) always need one.
    api_public_read: bool = False
    api_rate_limit: int = Field(600, ge=0)  # requests a minute per key (or per client address); 0: no limit
    api_cors_origins: list[str] = Field(default_factory=list)  # browser origins allowed to call the API

    @field_validator("api_cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """``POLICYKB_API_CORS_ORIGINS="https://a.example,https://b.example"`` → a list."""
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """Settings from ``config.toml`` in the home, then ``POLICYKB_*`` variables, then overrides."""
        values: dict[str, Any] = {}
        home = Path(str(overrides.get("home") or _default_home()))
        cfg = home / "config.toml"
        if cfg.is_file():
            try:
                values.update(tomllib.loads(cfg.read_text(encoding="utf-8")))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{cfg}: not valid TOML ({exc})") from exc
        for name in cls.model_fields:
            env = os.environ.get(f"POLICYKB_{name.upper()}")
            if env is not None and env != "":
                values[name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            allowed = ", ".join(sorted(cls.model_fields))
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ConfigError(f"invalid settings ({problems}); allowed keys: {allowed}") from exc
