"""Cite what was asked: a question naming an article cites that article first, law names given in short
(电商法, 消法); cross-references inside a cited clause ("违反本法第十二条规定的") come with the citation."""
# ruff: noqa: F811 — pytest fixtures are imported from answer_kit and requested by name

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import RULE, fake_home  # noqa: F401

from policykb.config import Settings
from policykb.index.embed import FakeEmbedder
from policykb.index.store import KnowledgeBase
from policykb.ingest.pipeline import ingest_text
from policykb.qa.answer import answer
from policykb.qa.crossrefs import resolve, same_document_references

LAW = """# 中华人民共和国示例电子商务法

## 第一章 总则

第一条 为了保障电子商务各方主体的合法权益，制定本法。

第八条 电子商务平台经营者应当公示平台服务协议和交易规则。

第十二条 电子商务经营者从事经营活动，依法需要取得相关行政许可的，应当依法取得行政许可。

## 第二章 法律责任

第三十条 违反本法第十二条规定的，由市场监督管理部门责令限期改正，可以处一万元以下的罚款。

第三十一条 依照本法第八条、第十二条的规定处理；依照《广告法》第五十五条另行处罚。

第三十二条 本法第八条规定的协议应当长期公示。
"""


@pytest.fixture
def law_kb(fake_home) -> KnowledgeBase:
    kb = KnowledgeBase.open(Settings.load(), embedder=FakeEmbedder())
    result = ingest_text(LAW, source_path="law.md", doc_id="law")
    with kb.writer() as w:
        w.upsert(result.document, result.clauses, "test")
    return kb


def article(kb, label):
    return next(c for c in kb.clauses("law") if c.label == label)


def test_cross_references_name_no_other_law():
    refs = same_document_references("依照本法第八条、第十二条的规定处理；依照《广告法》第五十五条另行处罚。")
    assert [r.number for r in refs] == ["8", "12"]


def test_a_penalty_clause_brings_the_rule_it_enforces(law_kb):
    assert [c.label for c in resolve(law_kb, article(law_kb, "第三十条"))] == ["第十二条"]
    assert [c.label for c in resolve(law_kb, article(law_kb, "第三十一条"))] == ["第八条", "第十二条"]
    assert resolve(law_kb, article(law_kb, "第八条")) == ()


@pytest.mark.parametrize(
    "question", ["示例电子商务法第三十二条规定了什么？", "电商法第32条", "第三十二条讲什么"]
)
def test_a_question_naming_an_article_cites_that_article_first(law_kb, question):
    a = answer(law_kb, question, rule=RULE)
    assert not a.abstained
    assert a.citations[0].clause.label == "第三十二条"
    assert a.sentences[0].text == "本法第八条规定的协议应当长期公示。"
    # … and not the clause that merely mentions 第八条
    assert a.citations[0].references[0].label == "第八条"


def test_references_are_in_the_json_of_the_citation(law_kb):
    a = answer(law_kb, "示例电子商务法第三十条怎么罚？", rule=RULE)
    c = a.to_dict()["citations"][0]
    assert c["label"] == "第三十条"
    assert [(r["label"], r["text"]) for r in c["references"]] == [
        ("第十二条", "电子商务经营者从事经营活动，依法需要取得相关行政许可的，应当依法取得行政许可。")
    ]


def test_ask_prints_the_referenced_article_under_its_citation(law_kb):
    from policykb.ui.cmd_ask import format_answer

    text = format_answer(answer(law_kb, "示例电子商务法第三十条怎么罚？", rule=RULE))
    assert (
        "    ↳ 所引 第十二条：电子商务经营者从事经营活动，依法需要取得相关行政许可的，应当依法取得行政许可。"
        in text.splitlines()
    )
