"""A first Streamlit app: ask a question (cited answer) or search clauses.

Notice text and answers are shown with `st.text`/`st.caption`-free plain text so nothing in a
notice is ever rendered as HTML or Markdown (RELIABILITY 21). The knowledge base is loaded once
per server process and shared; per-user state lives in `st.session_state` only.
"""

from __future__ import annotations

import streamlit as st

from policykb.config import Settings
from policykb.index.store import KnowledgeBase


@st.cache_resource
def knowledge_base() -> KnowledgeBase:
    kb = KnowledgeBase.open(Settings.load())
    kb.warm()
    return kb


def show_clause(c: dict, n: int | None = None) -> None:
    m = c["metadata"]
    head = f"[{n}] " if n else ""
    st.text(f"{head}{c['title']}  {m.get('issuer') or ''} {m.get('date') or ''}\n"
            f"{' > '.join(c['section_path'])} {c['label']}")
    st.text(c["text"])


def ask_tab(kb: KnowledgeBase) -> None:
    from policykb.qa.answer import answer

    q = st.text_input("问题 / Question", placeholder="微视收费吗？", key="ask_q")
    if not q:
        return
    result = answer(kb, q).to_dict()
    if result["abstained"]:
        st.warning("知识库中没有回答这个问题的条款 / The knowledge base has no clause on this.")
    else:
        st.text(result["answer"])
    for c in result["citations"]:
        show_clause(c, c["n"])
    if result.get("related"):
        st.text("相关条款 / Related reading:")
        for c in result["related"]:
            show_clause(c)


def search_tab(kb: KnowledgeBase) -> None:
    q = st.text_input("检索条款 / Search clauses", placeholder="第三十五条", key="search_q")
    if not q:
        return
    hits = kb.search(q, k=10)
    st.text(f"{len(hits)} clauses")
    for h in hits:
        show_clause(h.clause.to_dict(), h.rank)


def main() -> None:
    st.set_page_config(page_title="policykb", layout="wide")
    st.title("policykb")
    kb = knowledge_base()
    ask, search = st.tabs(["问答 Ask", "检索 Search"])
    with ask:
        ask_tab(kb)
    with search:
        search_tab(kb)


main()
