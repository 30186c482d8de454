"""The same notice in any encoding ingests to the same clauses (RELIABILITY 13, 14)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, ENCODINGS, EXTERNAL, SEEDS, assert_no_text_lost

from policykb.ingest.metadata import ManifestEntry
from policykb.ingest.pipeline import ingest_file


def ingest_as(path: Path, doc_id: str = "doc"):
    """Ingest with a fixed doc id and cited path, so clause ids depend on the content only."""
    return ingest_file(path, ManifestEntry(doc_id, path.name, {"title": "测试"}), display_path="doc.txt")


def clause_view(result) -> list[tuple]:
    return [
        (c.clause_id, c.label, c.section_path, c.text, c.original, c.source.start, c.source.end, c.part)
        for c in result.clauses
    ]


@pytest.fixture(scope="module")
def shenzhen_utf8():
    return ingest_as(ENCODINGS / "shenzhen.utf8.txt")


@pytest.mark.parametrize(
    "name, encoding",
    [
        ("shenzhen.gbk.txt", "gb18030"),
        ("shenzhen.gb18030.txt", "gb18030"),
        ("shenzhen.utf8bom.txt", "utf-8-sig"),
        ("shenzhen.utf8.txt", "utf-8"),
    ],
)
def test_shenzhen_in_every_encoding_gives_the_same_clauses(name, encoding, shenzhen_utf8):
    r = ingest_as(ENCODINGS / name)
    assert r.document.encoding == encoding
    assert r.document.warnings == ()
    assert len(r.clauses) == 21  # the addressees (主送) line is metadata, not a clause
    assert clause_view(r) == clause_view(shenzhen_utf8)
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        (c.label, c.section_path, c.text) for c in shenzhen_utf8.clauses
    ]


def test_utf8_copy_is_the_seed(shenzhen_utf8):
    assert (ENCODINGS / "shenzhen.utf8.txt").read_bytes() == (
        CORPUS / "shenzhen_weishi_2020.txt"
    ).read_bytes()
    assert shenzhen_utf8.text == (CORPUS / "shenzhen_weishi_2020.txt").read_text(encoding="utf-8")


def test_bom_is_not_text(shenzhen_utf8):
    r = ingest_as(ENCODINGS / "shenzhen.utf8bom.txt")
    assert r.text == shenzhen_utf8.text and not r.text.startswith("\ufeff")
    assert_no_text_lost(r)


def test_big5_traditional_act_equals_its_utf8_copy():
    """Big5 bytes also decode as GB18030 without an error, into garbage: the scorer must pick Big5."""
    big5 = ingest_as(ENCODINGS / "tw_esign.big5.md")
    utf8 = ingest_as(ENCODINGS / "tw_esign.utf8.md")
    assert (big5.document.encoding, utf8.document.encoding) == ("big5", "utf-8")
    assert clause_view(big5) == clause_view(utf8)
    assert (ENCODINGS / "tw_esign.big5.md").read_bytes().decode("gb18030")  # the trap: no error
    assert list(dict.fromkeys(c.label for c in big5.clauses if c.label))[:3] == [
        "第 1 條",
        "第 2 條",
        "第 3 條",
    ]
    # the law database's 法規網址 line is the document's information, not a clause (layout.INFO_FIELD)
    assert big5.clauses[0].label == "第 1 條" and big5.clauses[0].text.startswith("为推动电子签章之普及运用")


def test_big5_and_the_external_copy_agree():
    assert (ENCODINGS / "tw_esign.utf8.md").read_bytes() == (
        EXTERNAL / "tw_electronic_signatures_act.md"
    ).read_bytes()


@pytest.mark.parametrize(
    "name, text", [("short_gbk.txt", "通知"), ("short_gbk_gonggao.txt", "关于开展直播电商活动的公告")]
)
def test_short_gbk_is_decoded_as_gbk(name, text):
    r = ingest_as(ENCODINGS / name)
    assert r.document.encoding == "gb18030"
    assert r.text == text
    assert [(c.label, c.text, c.source.start, c.source.end) for c in r.clauses] == [("", text, 0, len(text))]
    assert_no_text_lost(r)


def test_short_gbk_trap_bytes_are_valid_utf8():
    data = (ENCODINGS / "short_gbk.txt").read_bytes()
    assert data == b"\xcd\xa8\xd6\xaa" and data.decode("utf-8") == "\u0368\u05aa"


def test_rare_characters_survive():
    r = ingest_as(ENCODINGS / "mixed_rare.utf8.txt")
    first, article = r.clauses
    assert first.original == "关于“裏”字、扩展B区字“𠀀”和扩展A区字“䶮”的测试行：本通知自发布之日起施行。"
    assert first.text == "关于“里”字、扩展B区字“𠀀”和扩展A区字“䶮”的测试行：本通知自发布之日起施行。"
    assert (article.label, article.text) == ("第一条", "普通文本，用于混排测试。")
    assert r.text[first.source.start : first.source.end] == first.original
    assert_no_text_lost(r)


@pytest.mark.parametrize("codec", ["gb18030", "utf-8-sig", "utf-16"])
@pytest.mark.parametrize("name", SEEDS)
def test_every_seed_reencoded_gives_the_same_clauses(tmp_path, name, codec):
    text = (CORPUS / name).read_text(encoding="utf-8")
    f = tmp_path / name
    f.write_bytes(text.encode(codec))
    assert clause_view(ingest_as(f)) == clause_view(ingest_as(CORPUS / name))


@pytest.mark.parametrize("codec", ["gbk", "gb18030"])
def test_law_in_gbk_gives_the_same_articles(tmp_path, codec):
    src = EXTERNAL / "ecommerce_law_2018.md"
    f = tmp_path / src.name
    f.write_bytes(src.read_text(encoding="utf-8").encode(codec))
    assert clause_view(ingest_as(f)) == clause_view(ingest_as(src))


def test_crlf_line_ends_give_the_same_clause_texts(tmp_path):
    src = CORPUS / "shenzhen_weishi_2020.txt"
    f = tmp_path / "crlf.txt"
    f.write_bytes(src.read_bytes().replace(b"\n", b"\r\n"))
    assert [(c.label, c.section_path, c.text) for c in ingest_as(f).clauses] == [
        (c.label, c.section_path, c.text) for c in ingest_as(src).clauses
    ]
