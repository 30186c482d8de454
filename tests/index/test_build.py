"""The index build's shortcuts give exactly what the plain functions give."""

import json

from kbdata import build_docs

from policykb.index.generation import clause_json
from policykb.index.keywords import Segmenter, clause_search_text, tokenize


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
