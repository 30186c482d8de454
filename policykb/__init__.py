"""policykb: cited answers from Chinese (live-stream) e-commerce notices.

The stages are subpackages: ``policykb.ingest`` (file -> clauses), ``policykb.index``
(clauses -> vectors + keywords, persisted), ``policykb.qa`` (question -> cited answer)
and ``policykb.ui`` (CLI, Streamlit app).
"""

__version__ = "0.1.0"
