"""The text module: character classes, keys and the one sentence splitter every stage uses."""

from __future__ import annotations

import doctest
import unicodedata

import pytest

from policykb.ingest import text
from policykb.ingest.clean import mojibake_spans
from policykb.ingest.mtext import MText
from policykb.ingest.split import split_long
from policykb.ingest.text import compact_key, is_cjk, match_key, split_sentences


def test_module_doctests():
    assert doctest.testmod(text).failed == 0


@pytest.mark.parametrize(
    "ch, cjk",
    [
        ("人", True),
        ("㐀", True),
        ("\uf900", True),
        ("𠀀", True),
        ("a", False),
        ("。", False),
        ("⼈", False),
        ("", False),
    ],
)
def test_is_cjk(ch, cjk):
    assert is_cjk(ch) is cjk


def test_a_line_that_starts_with_a_question_mark_is_read():
    assert mojibake_spans("?请问") == []
    assert mojibake_spans("?zāi)軇") == [(0, 6)]


def test_long_clauses_are_cut_where_answers_end_sentences():
    # A closing quote or bracket after the end mark stays with its sentence, in both splitters.
    body = "按《规则》执行。》平台“不收费！”企业自愿参加；【完】"
    assert [s.text for s in split_sentences(body)] == [
        "按《规则》执行。》",
        "平台“不收费！”",
        "企业自愿参加；",
        "【完】",
    ]
    assert [p.text for p in split_long(MText.of(body), 12)] == [
        "按《规则》执行。》",
        "平台“不收费！”",
        "企业自愿参加；【完】",
    ]


def test_heading_and_highlight_keys():
    assert compact_key("第 一 章 總則") == compact_key("第一章 总则") == "第一章总则"
    assert match_key("電子商務 ABC") == "电子商务 abc"


# --- radicals (tests/README.md row 19) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, shown",
    [
        (
            "为⼈⺠服务",
            "为人民服务",
        ),  # Kangxi ⼈ U+2F08 (NFKC folds it), supplement ⺠ U+2EA0 (NFKC does not)
        ("⻓期有效，⻔店⻢上开业", "长期有效，门店马上开业"),
        ("⻛险⻜⾏", "风险飞行"),  # ⾏ U+2F8F folds to 行
        ("⾧期", "长期"),  # Kangxi ⾧ folds to the Traditional 長, then t2s: fold first, convert after
        ("\uf900", "岂"),  # compatibility ideograph U+F900 (豈), then simplified
        ("⺮", "竹"),
    ],
)
def test_display_text_unifies_radicals_then_simplifies(raw, shown):
    assert text.display_text(raw) == shown
    assert text.search_key(raw) == text.search_key(shown)
    assert text.comparison_key(raw) == text.comparison_key(shown)


def test_every_radical_with_an_equivalent_ideograph_is_unified():
    # U+2E80 has no equivalent in Unicode's EquivalentUnifiedIdeograph.txt; U+2E9A is unassigned.
    assigned = [chr(o) for o in range(0x2E81, 0x2F00) if unicodedata.name(chr(o), None)]
    assert len(assigned) == 114
    assert all(is_cjk(text.unify_ideographs(ch)) for ch in assigned)
    kangxi = [chr(o) for o in range(0x2F00, 0x2FD6)]
    assert all(is_cjk(text.unify_ideographs(ch)) for ch in kangxi)


def test_texts_converted_ahead_are_converted_as_one_by_one():
    texts = ["乾隆 乾燥", "瞭解\n執行 行政程序", "乾\n隆", "", "simplified 电子商务", "乾", "隆", "\n\n後\n"]
    expected = [text._t2s().convert(t) for t in texts]
    text.forget_conversions()
    text.convert_ahead(texts)
    assert [text._converted.get(t, t) for t in texts] == expected
    assert [text.to_simplified(t) for t in texts] == expected
    text.forget_conversions()
