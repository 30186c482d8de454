"""OFD files (GB/T 33190, ``ingest/ofd.py``) ingest to the same clauses as their text."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, DATA, assert_no_text_lost, squash

from policykb.errors import InvalidFileError, TooLargeError
from policykb.ingest.loaders import load
from policykb.ingest.metadata import load_manifest
from policykb.ingest.pipeline import ingest_file

spec = importlib.util.spec_from_file_location("policykb_test_make_ofd", DATA / "loaders" / "make_ofd.py")
assert spec and spec.loader
MAKE_OFD = importlib.util.module_from_spec(spec)
spec.loader.exec_module(MAKE_OFD)


def ofd_of(src: Path, path: Path) -> Path:
    """The text's lines on three pages or so, one text object a line."""
    lines = src.read_text(encoding="utf-8").split("\n")
    lines_per_page = max(3, len(lines) // 3)
    pages = [lines[i : i + lines_per_page] for i in range(0, len(lines), lines_per_page)]
    path.write_bytes(MAKE_OFD.ofd_bytes(pages))
    return path


@pytest.mark.parametrize("name", ["shenzhen_weishi_2020.txt", "shanghai_livestream_measures_2020.txt"])
def test_ofd_ingests_to_the_clauses_of_its_text(tmp_path, name):
    src = CORPUS / name
    entry = load_manifest(CORPUS)[name]
    ofd, typed = ingest_file(ofd_of(src, tmp_path / f"{src.stem}.ofd"), entry), ingest_file(src, entry)
    assert [(c.label, c.section_path, squash(c.text)) for c in ofd.clauses] == [
        (c.label, c.section_path, squash(c.text)) for c in typed.clauses
    ]
    assert ofd.document.pages == len(load(tmp_path / f"{src.stem}.ofd").pages) > 1
    assert ofd.document.metadata == typed.document.metadata
    assert_no_text_lost(ofd)


def test_text_codes_are_read_in_rows_and_pages():
    # Two text objects on one baseline (a signature's name and date), given right one first.
    page = (
        '<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer>'
        '<ofd:TextObject Boundary="120 50 40 6" Size="4"><ofd:TextCode X="0" Y="4">2021年4月20日</ofd:TextCode>'
        '</ofd:TextObject><ofd:TextObject Boundary="25 50 40 6" Size="4"><ofd:TextCode X="0" Y="4">深圳市商务局'
        '</ofd:TextCode></ofd:TextObject><ofd:TextObject Boundary="25 30 160 6" Size="4">'
        '<ofd:TextCode X="0" Y="4">第一条 为了规范。</ofd:TextCode></ofd:TextObject></ofd:Layer></ofd:Content></ofd:Page>'
    )
    data = MAKE_OFD.ofd_bytes([["占位"], ["第二页。"]])
    from policykb.ingest.ofd import ofd_pages

    replaced = _replace(data, "Doc_0/Pages/Page_0/Content.xml", page.encode())
    assert ofd_pages(replaced, "x.ofd", 2**20) == ["第一条 为了规范。\n深圳市商务局2021年4月20日", "第二页。"]


def _replace(data: bytes, member: str, content: bytes) -> bytes:
    import io

    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, content if info.filename == member else src.read(info.filename))
    return out.getvalue()


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"not a zip at all", "not an OFD: not a ZIP archive (File is not a zip file)"),
        ("no_ofd_xml", "not an OFD: no OFD.xml in the archive"),
        ("bad_xml", "damaged OFD: XML error (not well-formed (invalid token): line 1, column 1)"),
    ],
)
def test_bad_ofd_is_named(tmp_path, content, problem):
    f = tmp_path / "bad.ofd"
    if content == "no_ofd_xml":
        with zipfile.ZipFile(f, "w") as z:
            z.writestr("Doc_0/Document.xml", "<x/>")
    elif content == "bad_xml":
        f.write_bytes(_replace(MAKE_OFD.ofd_bytes([["正文。"]]), "Doc_0/Pages/Page_0/Content.xml", b"<<<"))
    else:
        f.write_bytes(content)
    with pytest.raises(InvalidFileError) as exc:
        load(f)
    assert str(exc.value) == f"{f}: {problem}"


def test_ofd_that_inflates_too_far_is_too_large(tmp_path):
    f = tmp_path / "big.ofd"
    f.write_bytes(MAKE_OFD.ofd_bytes([["正文。" * 4000]]))
    with pytest.raises(TooLargeError) as exc:
        load(f, max_bytes=10_000)
    assert str(exc.value).startswith(f"{f}: OFD inflates to ")
