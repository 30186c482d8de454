"""What every page of the app shares: the knowledge base, navigation, the basket, safe text display.

Notice text is untrusted (RELIABILITY 21): it is shown with ``st.text`` (never interpreted), or, for
highlighted search results, HTML-escaped first and only then wrapped in ``<mark>`` (``highlight``).
Labels that Streamlit renders as Markdown (expanders, buttons) go through ``md_escape``.
Per-user state lives in ``st.session_state`` only (RELIABILITY 23); the knowledge base is shared.
"""

from __future__ import annotations

import html
import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import streamlit as st

from policykb.config import Settings
from policykb.index.store import KnowledgeBase
from policykb.ingest.text import match_key

PAGES = ("问答 Ask", "检索 Search", "文档 Documents", "摘录 Basket", "添加通知 Add a notice")
ASK, SEARCH, DOCUMENTS, BASKET, UPLOAD = PAGES
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


WARM_QUESTION = "平台收费吗？"  # any question: the first answer loads lexicons and converters


def _load() -> KnowledgeBase:
    from policykb.qa.answer import answer

    kb = KnowledgeBase.open(Settings.load())
    kb.warm()
    answer(kb, WARM_QUESTION)
    return kb


@st.cache_resource
def _loading() -> Future[KnowledgeBase]:
    """Start loading the knowledge base in a thread, once per server: the page renders meanwhile."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="policykb-load")
    future = pool.submit(_load)
    pool.shutdown(wait=False)
    return future


def start_loading() -> None:
    _loading()


def knowledge_base() -> KnowledgeBase:
    """One knowledge base per server process, warmed once (model loaded, vocabulary built, one answer)."""
    future = _loading()
    try:
        if not future.done():
            with st.spinner("正在加载知识库 / loading the knowledge base…"):
                return future.result()
        return future.result()
    except Exception:
        _loading.clear()  # a failed load is not cached: the next run tries again
        raise


@st.cache_resource
def settings() -> Settings:
    return Settings.load()


def md_escape(text: str) -> str:
    """Text for a Markdown-rendered label: every Markdown/HTML character backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def highlight(text: str, terms: list[str]) -> str:
    """``text`` HTML-escaped with ``terms`` wrapped in <mark>; matching ignores Traditional/Simplified
    and case. Spans are found on the raw text and each piece is escaped on its own, so no notice
    character can ever open a tag."""
    key = match_key(text)
    if len(key) != len(text):  # a phrase conversion changed the length: match on the text as is
        key = text.lower()
    spans: list[tuple[int, int]] = []
    for term in sorted({match_key(t) for t in terms if t.strip()}, key=len, reverse=True):
        start = key.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = key.find(term, end)
    out, pos = [], 0
    for s, e in sorted(spans):
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    # One HTML block with no blank line inside, so Markdown never parses the notice text.
    return '<div class="pkb-text">' + "".join(out).replace("\n", "<br>") + "</div>"


def matched_terms(text: str, terms: list[str]) -> list[str]:
    key = match_key(text)
    return [t for t in dict.fromkeys(terms) if t.strip() and match_key(t) in key]


def clause_heading(c: dict[str, Any], n: int | None = None) -> str:
    """A one-line plain-text heading: [n] title · issuer · date · section path · label."""
    m = c.get("metadata") or {}
    section = " > ".join([*c.get("section_path", []), c.get("label", "")]).strip(" >")
    parts = [c.get("title", ""), m.get("issuer") or "", m.get("date") or "", section]
    head = f"[{n}] " if n else ""
    return head + " · ".join(p for p in parts if p)


def short_heading(c: dict[str, Any], n: int | None = None, width: int = 28) -> str:
    """A compact heading for an expander: [n] section > label — title (issuer date)."""
    m = c.get("metadata") or {}
    section = " > ".join([*c.get("section_path", [])[-2:], c.get("label", "")]).strip(" >")
    title = c.get("title", "")
    title = title if len(title) <= width else title[:width] + "…"
    who = " ".join(v for v in (m.get("issuer"), m.get("date")) if v)
    head = f"[{n}] " if n else ""
    return f"{head}{section} — {title}" + (f" ({who})" if who else "")


# -- navigation ---------------------------------------------------------------------------------


def go_to_document(doc_id: str, clause_id: str | None = None) -> None:
    """A button callback: show ``doc_id`` in the document view with ``clause_id`` highlighted."""
    st.session_state["page"] = DOCUMENTS
    st.session_state["doc_id"] = doc_id
    st.session_state["focus_clause"] = clause_id
    st.session_state["scroll_to_clause"] = clause_id  # once: the documents page scrolls to it, then forgets


# -- the basket: an ordered list of excerpts (a clause dict plus an optional "note") ---------------


def basket() -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], st.session_state.setdefault("basket", []))


def in_basket(clause_id: str) -> bool:
    return any(e["clause_id"] == clause_id for e in basket())


def add_to_basket(clause: dict[str, Any]) -> None:
    if not in_basket(clause["clause_id"]):
        excerpt = {k: v for k, v in clause.items() if k not in ("rank", "score", "n")}
        excerpt.setdefault("note", "")
        basket().append(excerpt)


def clause_actions(c: dict[str, Any], key: str) -> None:
    """The two buttons every shown clause has: add to basket, open in document."""
    left, right = st.columns(2)
    added = in_basket(c["clause_id"])
    left.button(
        "已在摘录中 / in basket" if added else "加入摘录 / add to basket",
        key=f"add-{key}",
        disabled=added,
        on_click=add_to_basket,
        args=(c,),
    )
    right.button(
        "在文档中查看 / open in document",
        key=f"open-{key}",
        on_click=go_to_document,
        args=(c["doc_id"], c["clause_id"]),
    )
