"""The policykb Streamlit app: 问答 Ask · 检索 Search · 文档 Documents · 摘录 Basket · 添加通知 Add a notice.

Run with ``policykb ui``. One page at a time, chosen in the sidebar (``st.session_state["page"]``), so a
button elsewhere ("open in document") can switch pages. Safety and state rules are in ``app_common``.
"""

from __future__ import annotations

import streamlit as st

from policykb.ui.app_common import ASK, BASKET, DOCUMENTS, PAGES, SEARCH, UPLOAD, basket, knowledge_base


def main() -> None:
    st.set_page_config(page_title="policykb", layout="wide")
    kb = knowledge_base()
    with st.sidebar:
        st.title("policykb")
        st.caption("电商政策通知知识库 / e-commerce notices, cited answers")
        st.radio("页面 / page", PAGES, key="page")  # fixed labels: changing them would reset the choice
        st.text(f"{len(kb.documents())} 份文档 documents · {len(kb.clauses())} 条款 clauses\n"
                f"摘录 basket: {len(basket())}")
    page = st.session_state["page"]
    if page == ASK:
        from policykb.ui.app_ask import ask_page
        ask_page(kb)
    elif page == SEARCH:
        from policykb.ui.app_search import search_page
        search_page(kb)
    elif page == DOCUMENTS:
        from policykb.ui.app_documents import documents_page
        documents_page(kb)
    elif page == BASKET:
        from policykb.ui.app_basket import basket_page
        basket_page()
    elif page == UPLOAD:
        from policykb.ui.app_upload import upload_page
        upload_page(kb)


main()
