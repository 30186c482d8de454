"""Milvus' own full-text search (a BM25 function over a VARCHAR field with an analyzer) against policykb's BM25,
on the dev questions over the bundled corpus; Milvus Lite in a temporary folder. Prints a table.

    .venv/bin/python bench/bench_milvus_bm25.py

Each clause is inserted as the text policykb's BM25 indexes (``clause_search_text``). Milvus is asked the
question as written and, in a second row, policykb's Simplified form of it (``kb.prepare(q).zh``), since
Milvus converts no Traditional characters. Which analyzers the installed Milvus Lite accepts is printed first.
"""

from __future__ import annotations

import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

from policykb.config import DEFAULT_CORPUS, Settings
from policykb.index.embed import FakeEmbedder
from policykb.index.keywords import clause_search_text
from policykb.index.milvus import add_bm25
from policykb.qa.evaluation import (
    DEV_QUESTIONS,
    Pipeline,
    format_table,
    kb_pipeline,
    load_questions,
    score_pipeline,
)
from policykb.ui.cmd_eval import open_kb

ANALYZERS = {
    "jieba": {"tokenizer": "jieba"},
    "chinese": {"type": "chinese"},  # the built-in Chinese analyzer of a Milvus server
    "standard": {"tokenizer": "standard"},
}


def collection(client: MilvusClient, name: str, analyzer: dict[str, object]) -> None:
    """The store's own BM25 fields (``milvus.add_bm25``) with ``analyzer``, over an id alone."""
    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    index = MilvusClient.prepare_index_params()
    add_bm25(schema, index, analyzer)
    client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="policykb-bm25-"))
    settings = Settings.load(home=tmp / "home", corpus=DEFAULT_CORPUS, embedding_model="fake")
    kb = open_kb(settings, embedder=FakeEmbedder())
    clauses = kb.clauses()
    questions = load_questions(DEV_QUESTIONS)
    print(
        f"milvus-lite {metadata.version('milvus-lite')}, pymilvus {metadata.version('pymilvus')}; "
        f"{len(clauses)} clauses, {sum(q.answerable for q in questions)} answerable dev questions"
    )
    client = MilvusClient(str(tmp / "lite.db"))
    pipes: list[Pipeline] = [kb_pipeline(kb, "bm25")]

    def units() -> list[str]:
        return [c.text for c in clauses]

    for label, analyzer in ANALYZERS.items():
        name = f"bm25_{label}"
        try:
            collection(client, name, analyzer)
        except MilvusException as exc:  # report what this Milvus accepts, go on with the others
            print(f"analyzer {label} {analyzer}: refused ({type(exc).__name__}: {exc})")
            continue
        start = time.perf_counter()
        rows = [
            {"id": i, "text": clause_search_text(c.title, c.section_path, c.label, c.text)}
            for i, c in enumerate(clauses)
        ]
        for at in range(0, len(rows), 500):
            client.insert(name, rows[at : at + 500])
        client.flush(name)
        print(
            f"analyzer {label} {analyzer}: accepted; {len(rows)} clauses inserted in {time.perf_counter() - start:.1f} s"
        )

        def retrieve(query: str, k: int, name: str = name, simplify: bool = False) -> list[str]:
            text = kb.prepare(query).zh if simplify else query
            found = client.search(
                name,
                data=[text],
                anns_field="sparse",
                limit=k,
                output_fields=["id"],
                search_params={"metric_type": "BM25"},
            )
            return [clauses[int(hit["id"])].text for hit in found[0]]

        pipes.append(Pipeline(f"milvus bm25 {label}", retrieve, units))
        pipes.append(
            Pipeline(f"milvus bm25 {label} (zh)", lambda q, k, r=retrieve: r(q, k, simplify=True), units)
        )
    print(format_table([score_pipeline(p, questions) for p in pipes]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
