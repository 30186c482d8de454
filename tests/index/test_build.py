"""The index build's shortcuts give exactly what the plain functions give."""

import json
from array import array

import numpy as np
import pytest
from kbdata import build_docs

from policykb.index.generation import clause_json
from policykb.index.keywords import (
    KeywordIndex,
    Segmenter,
    TokenRows,
    clause_search_text,
    lucene_scores,
    tokenize,
)


def search_texts() -> list[str]:
    return [
        clause_search_text(c.title, c.section_path, c.label, c.text) for _, cs in build_docs() for c in cs
    ]


def test_segmenter_gives_the_tokens_of_tokenize():
    texts = search_texts() + ["《电子商务法》（副本3）第三十五条", "直播  营销\n第一章 总则", "", "，。"]
    segment = Segmenter()
    assert [segment(t) for t in texts] == [tokenize(t) for t in texts]
    assert [segment(t) for t in texts] == [tokenize(t) for t in texts]  # from its cache the second time


def test_segmenter_cuts_each_block_once():
    segment = Segmenter()
    segment("中华人民共和国电子商务法（副本1）\n第一条 为了保障电子商务各方主体的合法权益")
    blocks = segment.blocks("中华人民共和国电子商务法（副本2）\n第一条 为了保障电子商务各方主体的合法权益")
    assert blocks == [
        "中华人民共和国电子商务法",
        "(",
        "副本2",
        ") ",
        "第一条为了保障电子商务各方主体的合法权益",
    ]
    assert segment.missing(blocks) == ["副本2"]


def test_clause_json_is_to_json():
    clauses = [c for _, cs in build_docs() for c in cs]
    assert [clause_json(c) for c in clauses] == [c.to_json() for c in clauses]
    assert json.loads(clause_json(clauses[0]))["section_path"] == list(clauses[0].section_path)


def test_the_index_segments_with_jiebas_default_tokenizer_so_its_dictionary_loads_once():
    import jieba

    from policykb.index.keywords import _jieba, tokenize

    assert _jieba() is jieba.dt
    assert tokenize("微视平台不收取费用") == [t for t in jieba.cut_for_search("微视平台不收取费用")]


def bm25s_scores(rows, n_vocab: int) -> dict:
    """bm25s's own score matrix of ``rows`` (token id lists), built by bm25s.BM25 itself."""
    import bm25s

    plain = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    return plain.build_index_from_ids(list(range(n_vocab)), [list(r) for r in rows], show_progress=False)


@pytest.mark.parametrize(
    "n_vocab, chunk", [(300, 64), (300, 65_536), (70_000, 64)]
)  # 16-bit ids sorted by radix, wider ones not; chunks that split the rows and one that does not
def test_the_score_matrix_is_bm25s_own(monkeypatch, n_vocab, chunk):
    rng = np.random.default_rng(3)
    rows = [array("i", rng.integers(0, n_vocab, rng.integers(0, 40)).tolist()) for _ in range(500)]
    rows[7] = array("i")  # an empty row
    rows[8] = array("i", [5, 5, 5, 9])  # a token repeated in a row
    rows.append(array("i", [n_vocab - 1]))  # the highest id
    monkeypatch.setattr("policykb.index.keywords.SCORE_CHUNK", chunk)
    want = bm25s_scores(rows, n_vocab)
    for given in (rows, [list(r) for r in rows]):  # TokenRows' arrays and plain lists
        got = lucene_scores(given, n_vocab, 1.5, 0.75)
        assert got["num_docs"] == want["num_docs"] == 501
        for name in ("data", "indices", "indptr"):
            assert got[name].dtype == want[name].dtype and np.array_equal(got[name], want[name]), name


def test_a_keyword_index_ranks_as_bm25s_ranks():
    rows = TokenRows()
    for text in search_texts():
        rows.append(tokenize(text))
    ours = KeywordIndex.build(rows)
    import bm25s

    plain = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    plain.index([rows[i] for i in range(len(rows))], show_progress=False)
    for query in (["电子", "商务"], ["直播", "营销", "人员"], ["第三十五条"]):
        assert np.array_equal(ours.retriever.get_scores(query), plain.get_scores(query))


def test_a_token_row_is_written_as_json_dumps_writes_it():
    rows = TokenRows()
    tricky = [["电子", "商务"], [], ['"引号"', "back\\slash", "tab\there", "é", "\u2028"], ["电子", "新词"]]
    for tokens in tricky:
        rows.append(tokens)
        assert rows.json_line(len(rows) - 1) == json.dumps(tokens, ensure_ascii=False)
    assert [rows.json_line(i) for i in range(len(rows))] == [
        json.dumps(t, ensure_ascii=False) for t in tricky
    ]
