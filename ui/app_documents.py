"""文档 Documents: the notices with their metadata, and one notice read in full — a clickable outline beside
every clause in order, Traditional originals beside the text. "Open in document" (``go_to_document``)
lands on the cited clause: it is marked, framed and scrolled into view. The notice can be corrected or
deleted here (``app_doc_manage``), and a notice replaced by a new version shows what changed.

Notice text stays text (RELIABILITY 21): clauses through ``st.text``, labels through ``md_escape``. The only
HTML and script this page writes are its own: CSS naming keyed containers and a scroll to one of them,
both built from integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

import streamlit as st

from policykb.errors import IndexError_
from policykb.index.store import KnowledgeBase
from policykb.ingest.record import Clause
from policykb.ui.app_common import basket_button, md_escape
from policykb.ui.uploads import UPLOAD_FOLDER

SEP = " › "
SNIPPET = 14  # characters of an unlabelled clause shown in the outline
HEADING = 24  # characters of a heading shown in the outline (the tooltip has all of it)


def documents_page(kb: KnowledgeBase) -> None:
    try:
        kb.reload()  # a change made elsewhere (the CLI, another server) is shown at once
    except IndexError_:
        pass  # keep serving what is loaded; the banner in app.py says what is wrong
    st.header("文档 Documents")
    flash()
    docs = kb.documents()
    if not docs:
        st.info("知识库为空 / The knowledge base is empty: add a notice first.")
        return
    rows = [
        {
            "标题 Title": d.title,
            "发布 Issuer": d.metadata.issuer or "",
            "地区 Region": d.metadata.region or "",
            "日期 Date": d.metadata.date or "",
            "类型 Type": d.metadata.doc_type or "",
            "条款 Clauses": d.n_clauses,
        }
        for d in docs
    ]
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={
            "标题 Title": st.column_config.TextColumn(width="large"),
            "条款 Clauses": st.column_config.NumberColumn(width="small"),
        },
    )
    titles = {d.doc_id: d.title for d in docs}
    if st.session_state.get("doc_id") not in titles:
        if st.session_state.get("doc_id"):  # e.g. a search result of a document deleted since
            st.warning("要打开的文档已不在知识库中 / that document is no longer in the knowledge base")
        st.session_state["doc_id"] = docs[0].doc_id
    doc_id = st.selectbox(
        "打开文档 / open a document", list(titles), key="doc_id", format_func=lambda i: f"{titles[i]} ({i})"
    )
    show_document(kb, doc_id)


def flash() -> None:
    """The outcome of the last change (delete, edit, new version), shown once after the rerun it caused."""
    message = st.session_state.pop("docs_flash", None)
    if message:
        kind, text = message
        (st.success if kind == "ok" else st.error)(text)


# -- the outline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One line of the outline: a heading or a clause, ``depth`` deep, jumping to clause ``target``
    (an index into the document's clauses). ``path`` is the line with its headings, for a tooltip."""

    depth: int
    text: str
    target: int
    heading: bool
    path: str


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width] + "…"


def outline_entries(clauses: list[Clause]) -> list[Entry]:
    """The section tree in reading order: each heading once (it jumps to its first clause), then each
    clause by its label (or the start of its text); the later parts of a split clause are not repeated."""
    entries: list[Entry] = []
    seen: set[tuple[str, ...]] = set()
    for i, c in enumerate(clauses):
        for depth in range(1, len(c.section_path) + 1):
            path = c.section_path[:depth]
            if path not in seen:
                seen.add(path)
                entries.append(Entry(depth - 1, short(path[-1], HEADING), i, True, SEP.join(path)))
        if c.part and c.part[0] > 1:
            continue
        name = c.label or short(c.text, SNIPPET)
        entries.append(Entry(len(c.section_path), name, i, False, SEP.join([*c.section_path, name])))
    return entries


def outline(clauses: list[Clause]) -> str:
    """The outline as indented plain text."""
    return "\n".join("  " * e.depth + e.text for e in outline_entries(clauses))


def focus_on(clause_id: str) -> None:
    """An outline callback: mark ``clause_id`` and scroll to it."""
    st.session_state["focus_clause"] = clause_id
    st.session_state["scroll_to_clause"] = clause_id
    st.session_state["focus_chosen"] = clause_id  # chosen in the outline, not cited


def show_outline(clauses: list[Clause], focus: int | None) -> tuple[int | None, str]:
    """The outline as buttons (keys toc-N); returns the number of the focused clause's entry, and the CSS
    that indents each entry by its depth."""
    st.markdown("**目录 Outline**")
    entries = outline_entries(clauses)
    # the entry of the focused clause (of its first part, when it was split)
    chosen = max(
        (n for n, e in enumerate(entries) if not e.heading and focus is not None and e.target <= focus),
        default=None,
    )
    if not entries:
        st.caption("（无章节 / no sections）")
    for n, e in enumerate(entries):
        label = md_escape(e.text)
        st.button(
            f"**{label}**" if e.heading else label,
            key=f"toc-{n}",
            type="primary" if n == chosen else "tertiary",
            help=md_escape(e.path) if e.path != e.text else None,
            on_click=focus_on,
            args=(clauses[e.target].clause_id,),
        )
    depths: dict[int, list[str]] = {}
    for n, e in enumerate(entries):
        if e.depth:
            depths.setdefault(e.depth, []).append(f".st-key-toc-{n}")
    indent = "\n".join(f"{', '.join(keys)} {{ padding-left: {d}em; }}" for d, keys in depths.items())
    return chosen, indent


# -- one document --------------------------------------------------------------------------------


def source(path: str) -> str:
    """Where a notice came from; an upload's temporary folder means nothing to a reader."""
    parts = PurePath(path).parts
    if any(p.startswith(UPLOAD_FOLDER) for p in parts[:-1]):
        return f"上传 / uploaded: {parts[-1]}"
    return path


def facts(kb: KnowledgeBase, doc_id: str) -> list[tuple[str, str]]:
    doc = kb.document(doc_id)
    assert doc is not None  # doc_id is one of kb.documents()
    m = doc.metadata
    return [
        (k, v)
        for k, v in (
            ("标题 Title", doc.title),
            ("发布 Issuer", m.issuer),
            ("地区 Region", m.region),
            ("平台 Platform", m.platform),
            ("日期 Date", m.date),
            ("类型 Type", m.doc_type),
            ("文号 Document number", m.doc_number),
            ("成文日期 Signed", m.signed),
            ("印发日期 Published", m.published),
            ("主送 Addressees", m.addressees),
            ("抄送 Copy to", m.copy_to),
            ("印发 Printed by", m.printed),
            ("有效期 Valid", " – ".join(v for v in (doc.valid_from, doc.valid_to) if v)),
            ("来源 Source", source(doc.source_path)),
            ("文字识别 OCR", doc.ocr),
            ("条款 Clauses", str(doc.n_clauses)),
        )
        if v
    ]


def show_document(kb: KnowledgeBase, doc_id: str) -> None:
    from policykb.ui.app_doc_manage import manage_document, show_changes

    clauses = kb.clauses(doc_id)
    st.text("\n".join(f"{k}: {v}" for k, v in facts(kb, doc_id)))
    manage_document(kb, doc_id)
    show_changes(kb, doc_id)
    focus_id = st.session_state.get("focus_clause")
    focus = next((i for i, c in enumerate(clauses) if c.clause_id == focus_id), None)
    if focus is not None:
        c = clauses[focus]
        where = md_escape(SEP.join([*c.section_path, c.label]).strip(SEP) or c.text[:SNIPPET])
        how = (
            "所选的条款 / the chosen clause"
            if st.session_state.get("focus_chosen") == focus_id
            else "引用的条款 / the cited clause"
        )
        st.info(f"{how}: {where}（下文标 ▶ / marked ▶ below）")
    two = any(c.original != c.text for c in clauses)
    show_original = two and st.checkbox(
        "并排显示原文 / show the original text beside", value=True, key="show_orig"
    )
    toc, body = st.columns([1, 3], gap="medium")
    with toc, st.container(key="pkb-toc"):
        entry, indent = show_outline(clauses, focus)
    with body:
        show_text(clauses, focus, show_original)
    page_script(focus, entry, indent)


def show_text(clauses: list[Clause], focus: int | None, show_original: bool) -> None:
    st.subheader("正文 Text")
    if show_original:
        left, right = st.columns(2)
        left.markdown("**简体 Simplified**")
        right.markdown("**原文 Original**")
    shown: tuple[str, ...] = ()
    for i, c in enumerate(clauses):
        for depth, heading in enumerate(c.section_path):
            if shown[: depth + 1] != c.section_path[: depth + 1]:
                st.markdown("\u3000" * depth + f"**{md_escape(heading)}**")
        shown = c.section_path
        focused = i == focus
        mark = "▶ " if focused else ""
        with st.container(border=focused, key=f"pkb-c-{i}"):
            if show_original:
                left, right = st.columns(2)
                left.text(f"{mark}{c.label} {c.text}".strip())
                right.text(f"{c.label} {c.original}".strip() if c.original != c.text else "")
            else:
                st.text(f"{mark}{c.label} {c.text}".strip())
            if focused:  # the clause is open already: only "add to basket", never "open in document"
                basket_button(c.to_dict(), f"d-{c.clause_id}")


# -- the page's own CSS and script ---------------------------------------------------------------

STYLE = """<style>
div[data-testid="stColumn"]:has(.st-key-pkb-toc) {
  position: sticky; top: 3.75rem; align-self: flex-start; max-height: calc(100vh - 5rem); overflow-y: auto;
}
.st-key-pkb-toc, .st-key-pkb-toc [data-testid="stVerticalBlock"] { gap: 0.15rem; }
.st-key-pkb-toc button { justify-content: flex-start; text-align: left; min-height: 1.5rem; padding: 0 0.3rem; }
%s
</style>"""
FOCUS_STYLE = (
    ".st-key-pkb-c-%d { background: #fff4d6; border-color: #f0a020 !important; scroll-margin-top: 5rem; }"
)

# Streamlit draws a rerun piece by piece and the table above may still change height: scroll until the
# clause stays put (or give up after a few seconds, so a reader who scrolls away is not pulled back).
# The outline scrolls on its own (it is sticky), so its entry is brought into its view separately.
SCROLL = """<script data-nonce="%d">
(() => {
  let tries = 0, last = null, still = 0;
  const timer = setInterval(() => {
    const el = document.querySelector(".st-key-pkb-c-%d");
    const entry = document.querySelector(".st-key-toc-%d");
    tries += 1;
    if (el) {
      const top = el.getBoundingClientRect().top;
      if (last !== null && Math.abs(top - last) < 2) still += 1; else still = 0;
      if (still === 0) el.scrollIntoView({block: "center"});
      last = el.getBoundingClientRect().top;
    }
    const toc = entry && entry.closest('div[data-testid="stColumn"]');
    if (toc) {
      const offset = entry.getBoundingClientRect().top - toc.getBoundingClientRect().top;
      toc.scrollTop += offset - toc.clientHeight / 2;
    }
    if (still >= 4 || tries > 60) clearInterval(timer);
  }, 100);
})();
</script>"""


def page_script(focus: int | None, entry: int | None, indent: str) -> None:
    """The page's CSS; and once after a citation or an outline entry chose a clause, the scroll to it."""
    st.html(STYLE % ((FOCUS_STYLE % focus if focus is not None else "") + "\n" + indent))
    target = st.session_state.pop("scroll_to_clause", None)
    if focus is not None and target == st.session_state.get("focus_clause"):
        nonce = st.session_state["scroll_nonce"] = st.session_state.get("scroll_nonce", 0) + 1
        st.html(SCROLL % (nonce, focus, -1 if entry is None else entry), unsafe_allow_javascript=True)
