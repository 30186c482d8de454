"""Settings reject what cannot work, naming the setting and what is allowed."""

from __future__ import annotations

import pytest

from policykb.config import Settings
from policykb.errors import ConfigError

ALLOWED = (
    "allowed keys: ann_min_clauses, api_cors_origins, api_public_read, api_rate_limit, api_token, corpus, "
    "embedding_batch_size, embedding_model, embedding_precision, home, llm_api_key, llm_base_url, llm_model, "
    "max_clause_chars, milvus_keywords, milvus_uri, parse_timeout_s, "
    "ui_password, vector_store, writer_wait_seconds"
)


@pytest.mark.parametrize(
    "env, value, problem",
    [
        ("POLICYKB_MAX_CLAUSE_CHARS", "0", "max_clause_chars: Input should be greater than 0"),
        ("POLICYKB_EMBEDDING_BATCH_SIZE", "-4", "embedding_batch_size: Input should be greater than 0"),
        (
            "POLICYKB_WRITER_WAIT_SECONDS",
            "-1",
            "writer_wait_seconds: Input should be greater than or equal to 0",
        ),
        ("POLICYKB_VECTOR_STORE", "faisss", "vector_store: Input should be 'faiss' or 'milvus'"),
        ("POLICYKB_EMBEDDING_PRECISION", "int4", "embedding_precision: Input should be 'fp32' or 'int8'"),
        ("POLICYKB_ANN_MIN_CLAUSES", "0", "ann_min_clauses: Input should be greater than 0"),
        ("POLICYKB_PARSE_TIMEOUT_S", "0", "parse_timeout_s: Input should be greater than 0"),
    ],
)
def test_a_value_that_cannot_work_is_an_error(monkeypatch, env, value, problem):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as exc:
        Settings.load()
    assert str(exc.value) == f"invalid settings ({problem}); {ALLOWED}"


def test_an_unknown_key_in_config_toml_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path))
    (tmp_path / "config.toml").write_text('fusion = "rrf"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        Settings.load()
    assert "fusion" in str(exc.value) and ALLOWED in str(exc.value)
