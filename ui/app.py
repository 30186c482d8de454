"""The policykb Streamlit app: 问答 Ask · 检索 Search · 文档 Documents · 摘录 Basket · 添加通知 Add a notice.

Run with ``policykb ui``. One page at a time, chosen in the sidebar (``st.session_state["page"]``), so a
button elsewhere ("open in document") can switch pages. Safety and state rules are in ``app_common``.
"""

from __future__ import annotations

import hmac

import streamlit as st

from policykb.ui.app_common import (
    ASK,
    BASKET,
    DOCUMENTS,
    PAGES,
    SEARCH,
    UPLOAD,
    basket,
    knowledge_base,
    settings,
    start_loading,
)


def signed_in() -> bool:
    """With ``ui_password`` configured, nothing is shown until it is given (compared in constant time)."""
    password = settings().ui_password
    if not password or st.session_state.get("signed_in"):
        return True
    given = st.text_input("密码 / password", type="password", key="password")
    if given and hmac.compare_digest(given.encode(), password.encode()):
        st.session_state["signed_in"] = True
        st.rerun()
    if given:
        st.error("密码不对 / wrong password")
    return False


# Our own code, no text from a notice or a person in it. A tap outside an open sidebar is how Streamlit
# closes it on a narrow screen (and only there): the same tap, once a page has been chosen.
CLOSE_SIDEBAR = """<span class="pkb-script" data-choice="%d"></span>
<style>[data-testid="stElementContainer"]:has(.pkb-script) { display: none; }</style>
<script>document.querySelector('[data-testid="stMain"]')
  ?.dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));</script>"""


def _page_chosen() -> None:
    st.session_state["pages_chosen"] = st.session_state.get("pages_chosen", 0) + 1
    st.session_state["page_just_chosen"] = True


def main() -> None:
    st.set_page_config(page_title="policykb", layout="wide")
    if not signed_in():
        st.stop()
    start_loading()  # the model loads while the page is drawn and the first question is typed
    banner = st.empty()  # filled once the knowledge base is loaded, above the page
    with st.sidebar:
        st.title("policykb")
        st.caption("电商政策通知知识库 / e-commerce notices, cited answers")
        # fixed labels: changing them would reset the choice
        st.radio("页面 / page", PAGES, key="page", on_change=_page_chosen)
        stats = st.empty()
    page = st.session_state["page"]
    if page == ASK:
        from policykb.ui.app_ask import ask_page

        ask_page(knowledge_base)  # draws the chat box before waiting for the knowledge base
    elif page == SEARCH:
        from policykb.ui.app_search import search_page

        search_page(knowledge_base())
    elif page == DOCUMENTS:
        from policykb.ui.app_documents import documents_page

        documents_page(knowledge_base())
    elif page == BASKET:
        from policykb.ui.app_basket import basket_page

        basket_page()
    elif page == UPLOAD:
        from policykb.ui.app_upload import upload_page

        upload_page(knowledge_base())
    kb = knowledge_base()
    if kb.stale:
        banner.warning(
            f"知识库最新版本（第 {kb.stale['current']} 代）已损坏，当前显示的是较旧的第 {kb.stale['serving']} 代；"
            f"请运行 `policykb repair`。/ The newest generation ({kb.stale['current']}) is damaged; showing "
            f"generation {kb.stale['serving']}. Run `policykb repair`."
        )
    stats.text(
        f"{len(kb.documents())} 份文档 documents · {kb.clause_count()} 条款 clauses\n"
        f"摘录 basket: {len(basket())}"
    )
    if st.session_state.pop("page_just_chosen", False):
        st.html(CLOSE_SIDEBAR % st.session_state["pages_chosen"], unsafe_allow_javascript=True)


main()
