"""Legacy Word .doc files (``ingest/worddoc.py``, Debian antiword or catdoc) ingest to the clauses of their text.

``tests/data/notices/redhead_shenzhen_2021.doc`` was made once from ``redhead_shenzhen_2021.txt`` with
LibreOffice (see ``tests/data/notices/README.md``); the tests need only antiword/catdoc (scripts/setup.sh)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import DATA, assert_no_text_lost, squash

from policykb.errors import InvalidFileError
from policykb.ingest import worddoc
from policykb.ingest.loaders import load
from policykb.ingest.pipeline import ingest_file

TXT = DATA / "notices" / "redhead_shenzhen_2021.txt"
DOC = TXT.with_suffix(".doc")


def view(result) -> list[tuple]:
    return [(c.label, c.section_path, squash(c.text)) for c in result.clauses]


def test_doc_ingests_to_the_clauses_and_metadata_of_its_text():
    doc, typed = ingest_file(DOC), ingest_file(TXT)
    assert view(doc) == view(typed)
    assert doc.document.metadata == typed.document.metadata
    assert doc.document.metadata.doc_number == "深商务电商字〔2021〕35号"
    assert_no_text_lost(doc)


def test_catdoc_reads_what_antiword_refuses(monkeypatch):
    monkeypatch.setattr(worddoc, "TOOLS", (("false", []), *worddoc.TOOLS[1:]))
    assert squash(load(DOC).text) == squash(load(TXT).text)


def test_without_a_tool_the_doc_is_named(monkeypatch):
    monkeypatch.setattr(worddoc.shutil, "which", lambda tool: None)
    with pytest.raises(InvalidFileError) as exc:
        load(DOC)
    assert str(exc.value) == f"{DOC}: a Word 97-2003 .doc needs Debian antiword or catdoc (scripts/setup.sh)"


@pytest.mark.parametrize(
    "data, problem",
    [
        (b"PK\x03\x04rest", "a ZIP archive (a DOCX?) renamed .doc, not a Word 97-2003 .doc"),
        (b"<html>notice</html>", "not a Word .doc: no OLE2 header (starts with b'<html>no')"),
    ],
)
def test_not_a_doc(tmp_path, data, problem):
    f = tmp_path / "x.doc"
    f.write_bytes(data)
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert str(exc.value) == f"{f}: {problem}"


def test_a_damaged_doc_is_named_with_what_the_tools_said(tmp_path):
    f = tmp_path / "cut.doc"
    f.write_bytes(DOC.read_bytes()[:600])
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert str(exc.value).startswith(f"{f}: not a readable Word .doc (antiword: ")


def test_a_doc_table_becomes_readable_rows():
    r = ingest_file(DATA / "notices" / "table_subsidy_2021.doc")
    assert [(c.label, c.section_path, c.text) for c in r.clauses] == [
        (
            "",
            ("一、补贴标准", "表1 直播电商补贴标准"),
            (
                "项目：直播培训；标准：每人每次；金额：500元\n项目：直播基地建设；标准：每个基地；金额：20万元\n"
                "项目：品牌专场；金额：5万元"
            ),
        ),
        ("二、", (), "申报时间\n2021年5月1日至5月31日。"),
    ]
