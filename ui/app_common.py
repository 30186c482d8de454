"""What every page of the app shares: the knowledge base, navigation, the basket, safe text display.

Notice text is untrusted (RELIABILITY 21): it is shown with ``st.text`` (never interpreted), or, for
highlighted search results, HTML-escaped first and only then wrapped in ``<mark>`` (``highlight``).
Labels that Streamlit renders as Markdown (expanders, buttons) go through ``md_escape``.
Per-user state lives in ``st.session_state`` (RELIABILITY 23), and the basket also in a file of its own
under a random per-browser id (see "the basket" below); the knowledge base is shared.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import jieba
import streamlit as st

from policykb.config import Settings
from policykb.index.keywords import STOPWORDS
from policykb.index.references import SAYS_WORDS, label_key, words_besides_references
from policykb.index.store import KnowledgeBase
from policykb.ingest.numbering import NUMERAL_CHARS
from policykb.ingest.text import CJK, match_key, search_key
from policykb.ui.basket_store import is_basket_id, new_basket_id, read_basket, write_basket

PAGES = ("问答 Ask", "检索 Search", "文档 Documents", "摘录 Basket", "添加通知 Add a notice")
ASK, SEARCH, DOCUMENTS, BASKET, UPLOAD = PAGES
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


WARM_QUESTION = "平台收费吗？"  # any question: the first answer loads lexicons and converters


def _load(kb: KnowledgeBase | None, corpus: Path | None) -> KnowledgeBase:
    from policykb.qa.answer import answer

    kb = kb or KnowledgeBase.open(Settings.load())
    if corpus is not None and not kb.documents():
        from policykb.ui.ingesting import format_report, ingest_paths

        print(format_report(ingest_paths(kb, [corpus], max_chars=kb.settings.max_clause_chars)), flush=True)
    kb.warm()
    answer(kb, WARM_QUESTION)
    return kb


@st.cache_resource
def _loading(_kb: KnowledgeBase | None = None, _corpus: Path | None = None) -> Future[KnowledgeBase]:
    """Start loading the knowledge base in a thread, once per server: the page renders meanwhile. (The
    underscore arguments are not part of the cache key: whoever calls first decides them.)"""
    pool = ThreadPoolExecutor(1, thread_name_prefix="policykb-load")
    future = pool.submit(_load, _kb, _corpus)
    pool.submit(_warm_english, future)
    pool.shutdown(wait=False)
    return future


ENGLISH_WARM_DELAY_S = 10.0


def _warm_english(loading: Future[KnowledgeBase]) -> None:
    """Build what only an English or pinyin question reads, ``ENGLISH_WARM_DELAY_S`` after the load: run at
    once, it held the interpreter while Streamlit started and the first question was answered (first answer
    in chromium, built bundled corpus, load 0.1–1.2: 3.41–3.66 s with it right after the load, 2.99–3.55 s
    without it)."""
    if loading.exception() is None:
        time.sleep(ENGLISH_WARM_DELAY_S)
        loading.result().warm_english()


def start_loading(kb: KnowledgeBase | None = None, *, corpus: Path | None = None) -> None:
    """Start loading now (``policykb ui`` calls it before the server boots, with the knowledge base it
    opened: its model is loaded once). ``corpus`` is ingested first when the knowledge base holds no
    document, so on a first run the bundled corpus is embedded while Streamlit starts, not before."""
    _loading(kb, corpus)


def knowledge_base() -> KnowledgeBase:
    """One knowledge base per server process, warmed once (model loaded, one answer; then, without
    holding the page, what an English question needs)."""
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


# -- search words: whole words and references of a query, never n-gram fragments -------------------

# A clause text's spans that may be references (第三十五条, 第35条, 第二章, （十二）, 3.1.2); ``label_key``
# decides which reference each one is, so 第三十五条 and 第35条 meet and 第三方 is never one.
_NUMERALS = f"0-9０-９{NUMERAL_CHARS}"
REFERENCE_SPAN = re.compile(
    rf"第\s*[{_NUMERALS}]+\s*(?:[-－]\s*[0-9０-９]+\s*)?[条條](?:\s*之\s*[{_NUMERALS}]+)?"
    rf"|第\s*[{_NUMERALS}]+\s*[编編章节節]"
    rf"|[(（]\s*[{_NUMERALS}]+\s*[)）]"
    r"|(?<![\d.])\d{1,2}(?:\.\d{1,3}){1,4}(?![\d])"
)
_WORD_CHAR = re.compile(rf"[0-9a-z{CJK}]")


def query_words(text: str, *, references: bool = False) -> list[str]:
    """The whole words of ``text`` (jieba's precise mode on its search key, references taken out): 第三十五条
    收费 gives 收费, never 第三/三十/十五. Stop words and punctuation are left out, and single characters too
    when there is a longer word; with ``references``, also the words that only ask what a clause says
    (规定, 内容)."""
    rest = words_besides_references(text)
    dropped = STOPWORDS | SAYS_WORDS if references else STOPWORDS
    words = [w.strip() for w in jieba.lcut(rest)]
    words = [w for w in words if w and _WORD_CHAR.search(w) and w not in dropped]
    long = [w for w in words if len(w) >= 2]
    return list(dict.fromkeys(long or words))


def reference_spans(text: str, keys: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` that are one of the references ``keys`` (``条:35``), however they are written."""
    wanted = set(keys)
    if not wanted:
        return []
    return [m.span() for m in REFERENCE_SPAN.finditer(text) if label_key(m.group()) in wanted]


def _word_spans(key: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for term in sorted({match_key(t) for t in terms if t.strip()}, key=len, reverse=True):
        start = key.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = key.find(term, end)
    return spans


def highlight(text: str, terms: list[str], references: Iterable[str] = ()) -> str:
    """``text`` HTML-escaped with ``terms`` (whole words) and the ``references`` (keys such as ``条:35``)
    wrapped in <mark>; matching ignores Traditional/Simplified and case. Spans are found on the raw text
    and each piece is escaped on its own, so no notice character can ever open a tag."""
    key = match_key(text)
    if len(key) != len(text):  # a phrase conversion changed the length: match on the text as is
        key = text.lower()
    spans = reference_spans(key, references)
    spans += [w for w in _word_spans(key, terms) if not any(s < w[1] and w[0] < e for s, e in spans)]
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):  # words side by side (收取|费用) are one mark
        if merged and merged[-1][1] == s:
            s = merged.pop()[0]
        merged.append((s, e))
    out, pos = [], 0
    for s, e in merged:
        out.append(html.escape(text[pos:s]))
        out.append(f"<mark>{html.escape(text[s:e])}</mark>")
        pos = e
    out.append(html.escape(text[pos:]))
    # One HTML block with no blank line inside, so Markdown never parses the notice text.
    return '<div class="pkb-text">' + "".join(out).replace("\n", "<br>") + "</div>"


def matched_terms(text: str, terms: list[str], references: Iterable[str] = ()) -> list[str]:
    """The ``terms`` ``text`` contains, then the references it contains as it writes them (第35条)."""
    key = search_key(text)
    found = [t for t in dict.fromkeys(terms) if t.strip() and search_key(t) in key]
    mkey = match_key(text)
    refs = [mkey[s:e] for s, e in reference_spans(mkey, references)]
    return found + [r for r in dict.fromkeys(refs) if r not in found]


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


# -- the basket ---------------------------------------------------------------------------------
# An ordered list of items: a clause dict (plus "note", and its document's "valid_from"/"valid_to"), or
# an answer {"kind": "answer", "item_id", "question", "answer", "citations": [clause dicts + "note"]}.
# It survives a page reload: a random basket id is kept in the page's URL (?basket=…) and the list in
# $POLICYKB_HOME/baskets/<id>.json (ui/basket_store.py), rewritten after every change. Another browser
# gets another id, so no one sees another's basket unless they are given the link.

BASKET_PARAM = "basket"
_NOT_KEPT = ("rank", "score", "n", "references")  # per-search facts, not part of an excerpt


def basket_id() -> str:
    """This browser's basket id: the one in the URL when it is a safe token, else a new random one
    (written into the URL, so a reload finds it)."""
    bid = cast(str | None, st.session_state.get("basket_id"))
    if bid is None:
        given = st.query_params.get(BASKET_PARAM)
        bid = given if given and is_basket_id(given) else new_basket_id()
        st.session_state["basket_id"] = bid
    if st.query_params.get(BASKET_PARAM) != bid:
        st.query_params[BASKET_PARAM] = bid
    return bid


def basket() -> list[dict[str, Any]]:
    bid = basket_id()  # every run: keeps ?basket=… in the URL
    if "basket" not in st.session_state:
        st.session_state["basket"] = read_basket(settings().home, bid)
    return cast(list[dict[str, Any]], st.session_state["basket"])


def save_basket() -> None:
    """Call after every change to ``basket()``; a failed save is shown, the basket stays in the session."""
    try:
        write_basket(settings().home, basket_id(), basket())
    except OSError as exc:
        st.session_state["basket_error"] = f"摘录未能保存 / the basket could not be saved: {exc}"


def item_id(item: dict[str, Any]) -> str:
    return cast(str, item.get("item_id") or item["clause_id"])


def in_basket(clause_id: str) -> bool:
    return any(item_id(e) == clause_id for e in basket())


def _with_validity(clause: dict[str, Any]) -> dict[str, Any]:
    """The clause dict without per-search facts, with its document's validity period (as Ask's
    citations carry it), so an excerpt from Search or a document shows the same time note."""
    excerpt = {k: v for k, v in clause.items() if k not in _NOT_KEPT}
    if "valid_from" not in excerpt:
        doc = knowledge_base().document(excerpt["doc_id"])
        excerpt["valid_from"] = doc.valid_from if doc else None
        excerpt["valid_to"] = doc.valid_to if doc else None
    excerpt.setdefault("note", "")
    return excerpt


def add_to_basket(clause: dict[str, Any]) -> None:
    if not in_basket(clause["clause_id"]):
        basket().append(_with_validity(clause))
        save_basket()


def answer_item_id(question: str, answer: str) -> str:
    return "answer-" + hashlib.sha1(f"{question}\x1f{answer}".encode()).hexdigest()[:12]


def add_answer_to_basket(question: str, result: dict[str, Any]) -> None:
    """The question, the answer text and its citations, as one item."""
    iid = answer_item_id(question, result["answer"])
    if not in_basket(iid):
        citations = [_with_validity(c) for c in result["citations"]]
        basket().append(
            {
                "kind": "answer",
                "item_id": iid,
                "question": question,
                "answer": result["answer"],
                "citations": citations,
            }
        )
        save_basket()


def basket_button(c: dict[str, Any], key: str, where: Any = st) -> None:
    """ "加入摘录 / add to basket" for clause ``c`` (disabled once it is in the basket), in ``where``."""
    added = in_basket(c["clause_id"])
    where.button(
        "已在摘录中 / in basket" if added else "加入摘录 / add to basket",
        key=f"add-{key}",
        disabled=added,
        on_click=add_to_basket,
        args=(c,),
    )


def clause_actions(c: dict[str, Any], key: str) -> None:
    """The two buttons every shown clause has: add to basket, open in document."""
    left, right = st.columns(2)
    basket_button(c, key, left)
    right.button(
        "在文档中查看 / open in document",
        key=f"open-{key}",
        on_click=go_to_document,
        args=(c["doc_id"], c["clause_id"]),
    )
