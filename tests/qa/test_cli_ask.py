"""`policykb ask`: JSON and human-readable answers, batches from a file or stdin, usage errors."""
# ruff: noqa: F811 — pytest fixtures (kb, fake_home) are imported from answer_kit and requested by name

import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from answer_kit import fake_home, kb  # noqa: F401

from policykb.ui.cli import main

FEE = "腾讯微视平台对本次活动不收取费用，企业在第三方平台产生的费用按第三方平台规定执行。"


def run(capsys, *argv):
    code = main(["ask", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_answer(kb, capsys):
    code, out, err = run(capsys, "微视收费吗？", "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert list(d)[:5] == ["question", "answer", "abstained", "citations", "related"]
    assert (d["question"], d["answer"], d["abstained"]) == ("微视收费吗？", FEE + "[1]", False)
    [c] = d["citations"]
    assert (
        c["n"],
        c["doc_id"],
        c["label"],
        c["text"],
        c["issuer"],
        c["date"],
        c["section"],
        c["time_note"],
    ) == (
        1,
        "sz-weishi",
        "2.",
        FEE,
        "深圳市商务局",
        "2020-03-16",
        "二、业务流程 > （一）活动报名。 > 2.",
        "时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）",
    )
    assert c["clause_id"] not in {r["clause_id"] for r in d["related"]}
    assert d["sentences"][0]["citations"] == [1] and d["mode"] == "extractive"


def test_json_abstention(kb, capsys):
    code, out, _ = run(capsys, "淘宝直播的佣金比例是多少？", "--json")
    d = json.loads(out)
    assert code == 0
    assert (d["answer"], d["abstained"], d["citations"], d["sentences"]) == (
        "知识库中没有回答这个问题的条款。",
        True,
        [],
        [],
    )
    assert len(d["related"]) == 5 and d["reason"] == "the question is about 淘宝; no clause found is"


def test_human_readable_answer(kb, capsys):
    code, out, _ = run(capsys, "微视收费吗？")
    assert code == 0
    assert out == (
        "微视收费吗？\n\n"
        f"{FEE}[1]\n\n"
        "[1] 深圳市商务局关于印发腾讯微视专场活动指引的通知\n"
        "    深圳市商务局 · 2020-03-16 · 二、业务流程 > （一）活动报名。 > 2.\n"
        "    时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）\n"
        f"    {FEE}\n"
    )


def test_human_readable_abstention_lists_related_reading(kb, capsys):
    _, out, _ = run(capsys, "淘宝直播的佣金比例是多少？")
    lines = out.splitlines()
    assert lines[:5] == [
        "淘宝直播的佣金比例是多少？",
        "",
        "知识库中没有回答这个问题的条款。",
        "",
        "相关条款（仅供参考，不是答案的出处）：",
    ]
    assert (
        lines[5]
        == "  - 市商务委关于促进本市直播电商创新发展若干措施的通知 二、促进直播电商与各行业融合发展 > (七)"
    )
    assert "[1]" not in out


def test_traditional_question_shows_the_original(kb, capsys):
    _, out, _ = run(capsys, "創作者賬號違規會被怎樣處理？")
    assert (
        "原文：\n  創作者賬號,不符合上述第二章相關規則的,平台有權採取以下處理措施:[1]\n  重置個人信息、公示警告、扣除信用分。[1]\n"
        in out
    )
    assert "    原文：創作者賬號,不符合上述第二章相關規則的" in out


def test_english_question_has_the_lead_line(kb, capsys):
    _, out, _ = run(capsys, "Does Weishi charge fees?", "--json")
    d = json.loads(out)
    assert d["lead"].startswith(
        "Answered by 深圳市商务局 《深圳市商务局关于印发腾讯微视专场活动指引的通知》 (2020-03-16)"
    )
    assert d["answer"] == d["lead"] + "\n" + FEE + "[1]"


def test_queries_from_a_file_one_json_a_line(kb, capsys, tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"q": "微视收费吗？"}\n\n淘宝直播的佣金比例是多少？\n{"id": 3, "q": "Does Weishi charge fees?"}\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "--queries", str(path))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(r["question"], r["abstained"]) for r in rows] == [
        ("微视收费吗？", False),
        ("淘宝直播的佣金比例是多少？", True),
        ("Does Weishi charge fees?", False),
    ]


def test_queries_from_stdin(kb, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("微视收费吗？\n"))
    code, out, _ = run(capsys, "--queries", "-")
    assert code == 0 and json.loads(out)["answer"] == FEE + "[1]"


@pytest.mark.parametrize("argv", [[], ["微视收费吗？", "--queries", "-"]])
def test_question_or_queries_not_both(kb, capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2 and err == "policykb ask: give a QUESTION or --queries FILE (not both)\n"


def test_k_must_be_positive(kb, capsys):
    code, _, err = run(capsys, "微视收费吗？", "--k", "0")
    assert code == 2 and err == "policykb ask: --k must be at least 1, not 0\n"


def test_empty_knowledge_base_says_to_ingest(fake_home, capsys):
    code, out, err = run(capsys, "微视收费吗？")
    assert code == 1 and out == ""
    assert err == f"policykb ask: the knowledge base at {fake_home} has no documents; run `policykb ingest`\n"


def test_llm_mode_without_settings_names_them(kb, capsys):
    code, _, err = run(capsys, "微视收费吗？", "--mode", "llm")
    assert code == 1
    assert err.startswith(
        "policykb: LLM mode needs the settings llm_base_url, llm_model (POLICYKB_LLM_BASE_URL"
    )


def test_help_mentions_the_reading_depth(capsys):
    with pytest.raises(SystemExit):
        main(["ask", "--help"])
    assert "how many clauses to retrieve and read (default 30)" in capsys.readouterr().out
