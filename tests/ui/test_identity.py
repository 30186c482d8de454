"""Never lose or forge a notice (issue 9, items 1 and 3): a document's identity is not its file name, a new
version keeps the old one, and folder ingest follows no link and hides nothing it leaves out. Each test
reproduces a failure found against the earlier product (which replaced a notice by any same-named file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from policykb.config import Settings
from policykb.index import disk
from policykb.index.store import KnowledgeBase
from policykb.ui.ingesting import format_report, ingest_paths

REPO = Path(__file__).resolve().parents[2]
SZ = REPO / "corpus" / "shenzhen_weishi_2020.txt"
POLICYKB = Path(sys.executable).with_name("policykb")
FORGED = "腾讯微视平台对本次活动收取每家企业5000元费用。\n"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYKB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    return tmp_path / "home"


def kb() -> KnowledgeBase:
    return KnowledgeBase.open(Settings.load())


def batch(paths, replace=None):
    return ingest_paths(kb(), [Path(p) for p in paths], max_chars=360, replace=replace)


def rows(report):
    return [(Path(f.path).name, f.status, f.doc_id, f.clauses) for f in report.files]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(POLICYKB), *args], capture_output=True, text=True, env=os.environ, timeout=300, check=False
    )


def test_a_same_named_file_is_a_new_document_not_a_replacement(tmp_path):
    batch([SZ])
    before = [c.to_json() for c in kb().clauses("shenzhen-weishi-2020")]
    forged = tmp_path / "uploads" / SZ.name
    forged.parent.mkdir()
    forged.write_text(FORGED, encoding="utf-8")
    report = batch([forged])
    assert rows(report) == [(SZ.name, "added", "shenzhen-weishi-2020-2", 1)]
    assert report.files[0].reason == (
        "another document is stored as shenzhen-weishi-2020; this file is added as shenzhen-weishi-2020-2 "
        "(to make it a new version instead: policykb ingest FILE --replace shenzhen-weishi-2020)"
    )
    assert [c.to_json() for c in kb().clauses("shenzhen-weishi-2020")] == before  # 21 clauses, byte-identical
    assert len(before) == 21


def test_two_files_with_one_name_in_one_batch_are_two_documents(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "notice.txt").write_text(
        "第一条 甲方应当公示。\n第二条 乙方不得虚构交易。\n", encoding="utf-8"
    )
    (tmp_path / "b" / "notice.txt").write_text("第一条 平台应当建立投诉机制。\n", encoding="utf-8")
    report = batch([tmp_path / "a" / "notice.txt", tmp_path / "b" / "notice.txt"])
    assert rows(report) == [("notice.txt", "added", "notice", 2), ("notice.txt", "added", "notice-2", 1)]
    assert [c.text for c in kb().clauses("notice-2")] == ["平台应当建立投诉机制。"]


def test_exact_duplicate_content_is_reported_not_added_twice(tmp_path):
    batch([SZ])
    copy = tmp_path / "copy_of_weishi.txt"
    copy.write_bytes(SZ.read_bytes())
    report = batch([copy])
    assert rows(report) == [("copy_of_weishi.txt", "duplicate", "shenzhen-weishi-2020", 21)]
    assert report.files[0].reason == "same content as shenzhen-weishi-2020; not added twice"
    assert [d.doc_id for d in kb().documents()] == ["shenzhen-weishi-2020"]
    assert (
        format_report(report).splitlines()[-1]
        == "files: 1 (1 duplicate); knowledge base: 1 documents, 21 clauses"
    )


def write_rule(path: Path, *articles: str) -> Path:
    path.write_text("".join(f"第{n}条 {t}\n" for n, t in zip("一二三四五", articles)), encoding="utf-8")
    return path


def test_a_new_version_keeps_the_old_one_and_says_what_changed(tmp_path):
    write_rule(tmp_path / "rule.txt", "平台应当公示规则。", "商家不得虚构交易。")
    batch([tmp_path / "rule.txt"])
    v2 = write_rule(
        tmp_path / "rule_v2.txt",
        "平台应当公示规则。",
        "商家不得虚构交易或者刷单。",
        "本规则自发布之日起施行。",
    )
    report = batch([v2], replace="rule")
    assert rows(report) == [("rule_v2.txt", "new version", "rule", 3)]
    assert report.files[0].reason == "version 2; the earlier one is kept (policykb diff rule)"
    [old] = kb().versions("rule")  # persisted: a fresh KnowledgeBase reads it back, checksummed
    assert (old.number, [c.text for c in old.clauses]) == (1, ["平台应当公示规则。", "商家不得虚构交易。"])
    out = cli("diff", "rule")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1:] == [
        "+ 第三条  本规则自发布之日起施行。",
        "~ 第二条",
        "    was: 商家不得虚构交易。",
        "    now: 商家不得虚构交易或者刷单。",
    ]
    d = json.loads(cli("diff", "rule", "--json").stdout)
    assert (len(d["added"]), len(d["removed"]), len(d["changed"]), d["unchanged"]) == (1, 0, 1, 1)
    docs = cli("docs", "--versions").stdout.splitlines()
    assert docs[1].split()[:4] == ["version", "1", "2", "clauses"]


def test_the_same_file_edited_is_its_documents_new_version(tmp_path):
    f = write_rule(tmp_path / "rule.txt", "平台应当公示规则。")
    batch([f])
    write_rule(f, "平台应当公示规则和收费标准。")
    assert rows(batch([f])) == [("rule.txt", "new version", "rule", 1)]
    assert [v.number for v in kb().versions("rule")] == [1]


def test_a_damaged_versions_file_is_detected(tmp_path, home):
    write_rule(tmp_path / "rule.txt", "平台应当公示规则。")
    batch([tmp_path / "rule.txt"])
    batch([write_rule(tmp_path / "v2.txt", "平台应当公示规则和收费标准。")], replace="rule")
    gen = disk.generation_path(home, disk.read_current(home))
    data = bytearray((gen / "versions.jsonl").read_bytes())
    data[10] ^= 0x01
    (gen / "versions.jsonl").write_bytes(bytes(data))
    out = cli("docs")
    assert "versions.jsonl" in out.stderr or "versions.jsonl" in out.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--replace", "nosuch"], "--replace nosuch: no such document (policykb docs lists them)"),
        (["EXTRA", "--replace", "rule"], "--replace rule takes exactly one file, not 2"),
    ],
)
def test_replace_needs_one_file_and_a_stored_document(tmp_path, argv, message):
    f = write_rule(tmp_path / "rule.txt", "平台应当公示规则。")
    batch([f])
    extra = write_rule(tmp_path / "other.txt", "其他。")
    args = [a if a != "EXTRA" else str(extra) for a in argv]
    out = cli("ingest", str(f), *args)
    assert out.returncode == 1 and f"error: {message}" in out.stdout


# -- folder ingest ----------------------------------------------------------------------------------------


def test_folder_ingest_follows_no_link_and_lists_what_it_leaves_out(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    write_rule(inbox / "rule.txt", "平台应当公示规则。")
    (inbox / "passwd_link.txt").symlink_to("/etc/passwd")
    (inbox / "inner_link.txt").symlink_to(inbox / "rule.txt")
    (inbox / "linked_dir").symlink_to(tmp_path)
    write_rule(inbox / ".hidden_notice.txt", "隐藏的通知。")
    (inbox / ".git").mkdir()
    (inbox / "photo.bmp").write_bytes(b"BM\x00\x00")
    report = batch([inbox])
    assert sorted((Path(f.path).name, f.status, f.reason) for f in report.files) == [
        (".git", "skipped", "hidden folder; not searched"),
        (".hidden_notice.txt", "skipped", "hidden file"),
        ("inner_link.txt", "skipped", "symbolic link to a file inside the folder; not followed"),
        ("linked_dir", "skipped", "symbolic link to a folder; not followed"),
        ("passwd_link.txt", "skipped", "symbolic link to a file outside the folder; not followed"),
        (
            "photo.bmp",
            "skipped",
            "unsupported file type ('.bmp'); allowed: .txt .md .pdf .docx .html .htm .png .jpg .jpeg .tif .tiff .ofd .doc",
        ),
        ("rule.txt", "added", None),
    ]
    assert [d.doc_id for d in kb().documents()] == ["rule"]


def test_a_newline_in_a_file_name_cannot_forge_a_report_line(tmp_path):
    f = tmp_path / "x\nfiles: 0 (none)\n.txt"
    write_rule(f, "平台应当公示规则。")
    text = format_report(batch([f]))
    assert "x\\nfiles: 0 (none)\\n.txt" in text
    assert [ln for ln in text.splitlines() if ln.startswith("files:")] == [
        "files: 1 (1 added); knowledge base: 1 documents, 1 clauses"
    ]


# -- who can reach the app ----------------------------------------------------------------------------------


def test_ui_listens_on_loopback_unless_told_otherwise_with_a_password(monkeypatch):
    import streamlit.web.cli as streamlit_cli
    from streamlit.components.v2 import manifest_scanner

    from policykb.ui import cli as policykb_cli

    seen: list[list[str]] = []
    monkeypatch.setattr(streamlit_cli.main, "main", lambda args, **kw: seen.append(args) or 0)
    monkeypatch.setattr(
        policykb_cli, "_kb", lambda settings=None: type("KB", (), {"documents": lambda self: [1]})()
    )
    monkeypatch.setattr(manifest_scanner, "scan_component_manifests", lambda *a, **kw: ["a component"])
    monkeypatch.delenv("POLICYKB_UI_PASSWORD", raising=False)
    assert policykb_cli.main(["ui", "--headless"]) == 0
    assert seen[-1][seen[-1].index("--server.address") + 1] == "127.0.0.1"
    assert manifest_scanner.scan_component_manifests() == []  # the app uses no custom component
    assert policykb_cli.main(["ui", "--host", "0.0.0.0"]) == 2
    monkeypatch.setenv("POLICYKB_UI_PASSWORD", "s3cret")
    assert policykb_cli.main(["ui", "--host", "0.0.0.0", "--headless"]) == 0
    assert seen[-1][seen[-1].index("--server.address") + 1] == "0.0.0.0"


def test_first_run_ingests_the_corpus_in_the_loader_not_before_the_server(tmp_path, monkeypatch, capsys):
    """`policykb ui` on an empty knowledge base hands it and the corpus to the app's loader (which embeds
    while Streamlit boots); a second loader call reuses what the first one loaded."""
    from policykb.ui import app_common

    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_rule(corpus / "rule.txt", "平台应当公示规则。")
    kb = KnowledgeBase.open(Settings.load())
    app_common._loading.clear()
    try:
        app_common.start_loading(kb, corpus=corpus)
        loaded = app_common._loading().result(timeout=60)
        assert loaded is kb and [d.doc_id for d in kb.documents()] == ["rule"]
        assert capsys.readouterr().out.splitlines()[-1] == (
            "files: 1 (1 added); knowledge base: 1 documents, 1 clauses"
        )
        app_common.start_loading(KnowledgeBase.open(Settings.load()), corpus=corpus)  # cached: no second load
        assert app_common._loading().result() is kb
    finally:
        app_common._loading.clear()


# -- writers queue; a batch that could not be saved says so ------------------------------------------------


def test_cli_ingest_waits_for_another_writer_with_progress(tmp_path):
    f = write_rule(tmp_path / "rule.txt", "平台应当公示规则。")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from policykb.index import disk\n"
                f"with disk.exclusive_lock(Path({str(os.environ['POLICYKB_HOME'])!r})):\n"
                "    print('locked', flush=True); time.sleep(2)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        out = cli("ingest", str(f))
    finally:
        holder.wait()
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("policykb: waiting for another ingest to finish… (0 s)")
    assert out.stdout.splitlines()[-1] == "files: 1 (1 added); knowledge base: 1 documents, 1 clauses"


def test_a_refused_writer_prints_the_reason_not_an_empty_report(tmp_path, monkeypatch):
    from policykb.errors import LockBusyError
    from policykb.index.store import KnowledgeBase as KB

    f = write_rule(tmp_path / "rule.txt", "平台应当公示规则。")

    def busy(self, **kw):
        raise LockBusyError(
            "another process is still writing to the knowledge base at X after 300 s; nothing "
            "was changed, try again when it is done (or raise writer_wait_seconds)"
        )

    monkeypatch.setattr(KB, "writer", busy)
    report = batch([f])
    assert [(Path(x.path).name, x.status) for x in report.files] == []
    assert format_report(report) == (
        "error: another process is still writing to the knowledge base at X after "
        "300 s; nothing was changed, try again when it is done (or raise "
        "writer_wait_seconds)"
    )


def test_a_full_disk_reports_nothing_as_added(tmp_path, monkeypatch):
    from policykb.index import generation

    batch([SZ])
    f = write_rule(tmp_path / "rule.txt", "平台应当公示规则。")

    def full(*a, **kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(generation.disk, "write_text", full)
    report = batch([f])
    assert [(Path(x.path).name, x.status) for x in report.files] == [("rule.txt", "not saved")]
    lines = format_report(report).splitlines()
    assert lines[-2] == "files: 1 (1 not saved); knowledge base: 1 documents, 21 clauses"
    assert lines[-1].startswith("error: could not save the knowledge base at ")
