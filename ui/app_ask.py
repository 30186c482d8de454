"""问答 Ask: a chat for merchants — a question in, a cited extractive answer (or an honest "not found") out.

The conversation is per browser session (``st.session_state["chat"]``); each turn stores the answer's
``to_dict()`` so a rerun never asks again, and — for a follow-up ("那抖音呢？") — the question it was
read as (``qa.followup``), shown to the person and switchable off.

The page has one script of its own (``page_script``, no notice text in it): a click on an answer's [n]
opens that citation and scrolls it below the top bar; after a question, its answer is scrolled into view.
The chat box sits under the conversation (not pinned by Streamlit, whose pinned box scrolls the page to its
very end — past the answer, on a phone — after every question) and sticks to the bottom of the screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import streamlit as st

from policykb.index.store import KnowledgeBase
from policykb.qa.followup import follow_up
from policykb.ui.app_common import (
    add_answer_to_basket,
    answer_item_id,
    clause_actions,
    go_to_document,
    in_basket,
    md_escape,
    short_heading,
)

EXAMPLES = ("微视收费吗？", "What does Weishi charge?", "抖音電商對虛假宣傳有什麼規定？")
ABSTAIN = "知识库中没有回答这个问题的条款 / The knowledge base has no clause that answers this."
MARKER = re.compile(r"\[(\d{1,3})\]")
FOLLOW_UP = "结合上一轮 / use the previous question"
UNDERSTOOD = "理解为 / understood as: "


def anchor(turn: int, n: int) -> str:
    return f"cite-{turn}-{n}"


# Our own markup and code only — nothing from a notice or a question is ever put in it.
_STYLE = """<style>
[id^="cite-"], [data-testid="stExpander"], [class*="st-key-ask-turn-"] { scroll-margin-top: 4.5rem; }
[data-testid="stLayoutWrapper"]:has(> .st-key-ask-input) { position: sticky; bottom: 0; z-index: 90;
  padding: 0.5rem 0; background: var(--pkb-bg, #fff); }
[data-testid="stElementContainer"]:has(.pkb-script) { display: none; }
</style>"""
_SCRIPT = """<span class="pkb-script" data-run="%(run)s"></span><script>
(() => {
  const doc = document;
  const input = doc.querySelector(".st-key-ask-input")?.parentElement;
  const app = doc.querySelector(".stApp");
  if (input && app) {  // the sticky chat box takes the page's own background, light or dark theme
    input.style.setProperty("--pkb-bg", getComputedStyle(app).backgroundColor);
  }
  if (!window.pkbCitations) {
    window.pkbCitations = true;
    // [n] in an answer: open citation n (the first expander after its anchor) and bring it below the top bar.
    doc.addEventListener("click", (event) => {
      const link = event.target instanceof Element ? event.target.closest('a[href^="#cite-"]') : null;
      const mark = link && doc.getElementById(link.getAttribute("href").slice(1));
      if (!mark) return;
      const citation = Array.from(doc.querySelectorAll('[data-testid="stExpander"]')).find(
        (e) => mark.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING);
      const details = citation && citation.querySelector("details");
      if (!details) return;
      event.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
      if (!details.open) details.querySelector("summary").click();
      setTimeout(() => citation.scrollIntoView({ block: "start", behavior: "instant" }), 50);
    }, true);
  }
  const turn = %(turn)s;
  if (turn >= 0) {  // a new answer: its question at the top of the screen, the answer under it
    const show = () => {
      const box = doc.querySelector(".st-key-ask-turn-" + turn);
      if (box) box.scrollIntoView({ block: "start", behavior: "instant" });
    };
    setTimeout(show, 50);
  }
})();
</script>"""


def page_script(scroll_to: int | None) -> str:
    """The Ask page's style and script; ``scroll_to``: the turn just answered. A new question makes a new
    script (Streamlit runs a script again only when its text changes)."""
    turn = -1 if scroll_to is None else int(scroll_to)
    return _STYLE + _SCRIPT % {"run": turn, "turn": turn}


def answer_markdown(text: str, cited: set[int], turn: int) -> str:
    """The answer as Markdown: every piece of its text escaped, each [n] of a cited clause a link to
    that citation below (its anchor). Nothing from a notice is ever interpreted."""
    lines = []
    for line in text.split("\n"):
        out, pos = [], 0
        for m in MARKER.finditer(line):
            if int(m[1]) in cited:
                out += [md_escape(line[pos : m.start()]), f" [\\[{m[1]}\\]](#{anchor(turn, int(m[1]))}) "]
                pos = m.end()
        out.append(md_escape(line[pos:]))
        lines.append("".join(out))
    return "  \n".join(lines)


def _ask(question: str) -> None:
    st.session_state["pending_q"] = question


def ask_page(load_kb: Callable[[], KnowledgeBase]) -> None:
    """``load_kb`` waits for the knowledge base: the chat box is drawn before it is loaded."""
    from policykb.qa.answer import answer

    st.header("问答 Ask")
    chat: list[dict[str, Any]] = st.session_state.setdefault("chat", [])
    st.caption(
        "示例问题（简体、英文、繁体均可提问）/ example questions, in Simplified, English or Traditional:"
    )
    cols = st.columns(len(EXAMPLES))
    for i, (col, q) in enumerate(zip(cols, EXAMPLES, strict=True)):
        col.button(md_escape(q), key=f"example-{i}", on_click=_ask, args=(q,))
    conversation = st.container()  # filled below, once the new question (if any) is answered
    with st.container(key="ask-input"):
        use_previous = st.toggle(FOLLOW_UP, value=True, key="follow_up")  # always drawn: it keeps its state
        typed = st.chat_input("输入问题 / Ask a question", key="chat_q")
    question = (typed or st.session_state.pop("pending_q", None) or "").strip()
    if question or chat:
        kb = load_kb()
        with conversation:
            st.button("清空对话 / clear conversation", key="clear-chat", on_click=chat.clear)
            for turn, item in enumerate(chat):
                _draw_turn(kb, turn, item)
            if question:  # the spinner where the answer will be, at the end of the conversation
                previous = (chat[-1].get("asked") or chat[-1]["q"]) if chat else None
                asked = follow_up(question, previous) if use_previous else None
                with st.spinner("检索中 / searching…"):
                    result = answer(kb, asked or question).to_dict()
                chat.append({"q": question, "asked": asked, "result": result})
                _draw_turn(kb, len(chat) - 1, chat[-1])
    st.html(page_script(len(chat) - 1 if question else None), unsafe_allow_javascript=True)


def _draw_turn(kb: KnowledgeBase, turn: int, item: dict[str, Any]) -> None:
    with st.container(key=f"ask-turn-{turn}"):  # the page script scrolls a new turn into view by this key
        show_turn(kb, turn, item["q"], item["result"], asked=item.get("asked"))


def show_turn(
    kb: KnowledgeBase, turn: int, question: str, result: dict[str, Any], asked: str | None = None
) -> None:
    with st.chat_message("user"):
        st.text(question)
        if asked:
            st.caption(UNDERSTOOD + md_escape(asked))
    with st.chat_message("assistant"):
        if result["abstained"]:
            st.warning(ABSTAIN)
        else:
            cited = {c["n"] for c in result["citations"]}
            st.markdown(answer_markdown(result["answer"], cited, turn))
            added = in_basket(answer_item_id(question, result["answer"]))
            st.button(
                "回答已在摘录中 / answer in basket" if added else "加入摘录 / add this answer",
                key=f"add-answer-{turn}",
                disabled=added,
                on_click=add_answer_to_basket,
                args=(question, result),
            )
        for c in result["citations"]:
            # Our own markup only: the target of the answer's [n] link.
            st.markdown(f'<span id="{anchor(turn, c["n"])}"></span>', unsafe_allow_html=True)
            with st.expander(md_escape(short_heading(c, c["n"])), expanded=False):
                show_citation(kb, c, key=f"{turn}-{c['n']}")
        if result.get("related"):
            st.markdown("**相关阅读 / related reading**")
            for i, c in enumerate(result["related"]):
                with st.expander(md_escape(short_heading(c)), expanded=False):
                    show_citation(kb, c, key=f"{turn}-r{i}")


def show_citation(kb: KnowledgeBase, c: dict[str, Any], key: str) -> None:
    m = c.get("metadata") or {}
    facts = [
        ("文档 Document", c.get("title")),
        ("发布 Issuer", m.get("issuer")),
        ("日期 Date", m.get("date")),
        ("章节 Section", " > ".join(c.get("section_path") or [])),
        ("条款 Label", c.get("label")),
        ("时效 Time", c.get("time_note")),
    ]
    st.text("\n".join(f"{k}: {v}" for k, v in facts if v))
    st.text(c["text"])
    around = [n for n in kb.neighbours(c["clause_id"], before=1, after=1) if n.clause_id != c["clause_id"]]
    if around:
        st.caption("上下文 / neighbouring clauses")
        for n in around:
            st.text(f"{n.label} {n.text}".strip())
    refs = c.get("references") or []
    if refs:
        st.caption("本条引用的条款 / articles this clause refers to")
        for i, r in enumerate(refs):
            st.text(f"{r['label']} {r['text']}".strip())
            st.button(
                f"在文档中查看{r['label']} / open {r['label']}",
                key=f"ref-{key}-{i}",
                on_click=go_to_document,
                args=(r["doc_id"], r["clause_id"]),
            )
    clause_actions(c, key)
