"""检索 Search: clauses for officers — filters, paging, reference lookup, highlighted query terms."""

from __future__ import annotations

import streamlit as st

from policykb.index.filters import Filters
from policykb.index.store import KnowledgeBase
from policykb.ui.app_common import clause_actions, clause_heading, highlight, matched_terms

PAGE_SIZE = 10
MAX_HITS = 100


def _filters(kb: KnowledgeBase) -> Filters | None:
    facets = kb.facets()
    titles = {d.doc_id: d.title for d in kb.documents()}
    with st.expander("筛选 Filters", expanded=False):
        a, b, c = st.columns(3)
        region = a.multiselect("地区 Region", facets.get("region", []), key="f_region")
        issuer = b.multiselect("发布机构 Issuer", facets.get("issuer", []), key="f_issuer")
        platform = c.multiselect("平台 Platform", facets.get("platform", []), key="f_platform")
        d, e, f = st.columns(3)
        docs = d.multiselect(
            "文档 Document", list(titles), format_func=lambda i: titles.get(i, i), key="f_doc"
        )
        date_from = e.text_input("起始日期 From (yyyy[-mm[-dd]])", key="f_from").strip()
        date_to = f.text_input("截止日期 To (yyyy[-mm[-dd]])", key="f_to").strip()
    try:
        return Filters(
            region=tuple(region) or None,
            issuer=tuple(issuer) or None,
            platform=tuple(platform) or None,
            doc_id=tuple(docs) or None,
            date_from=date_from or None,
            date_to=date_to or None,
        )
    except ValueError as exc:
        st.error(str(exc))
        return None


def search_page(kb: KnowledgeBase) -> None:
    st.header("检索 Search")
    q = st.text_input("检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)", key="search_q").strip()
    filters = _filters(kb)
    if not q or filters is None:
        return
    signature = (q, filters.describe())
    if st.session_state.get("search_sig") != signature:
        retrieval = kb.retrieve(q, k=MAX_HITS, filters=filters)
        hits, prepared = retrieval.hits, retrieval.query
        terms = [t for t in [*prepared.tokens, *prepared.terms, *q.split()] if len(t.strip()) >= 2]
        st.session_state.update(
            search_sig=signature,
            search_page=0,
            search_terms=terms,
            search_hits=[{"rank": h.rank, **h.clause.to_dict()} for h in hits],
        )
    hits, terms = st.session_state["search_hits"], st.session_state["search_terms"]
    pages = max(1, -(-len(hits) // PAGE_SIZE))
    page = min(st.session_state.get("search_page", 0), pages - 1)
    more = "+" if len(hits) >= MAX_HITS else ""
    st.text(
        f"{len(hits)}{more} 条结果 / results" + (f" · {filters.describe()}" if not filters.is_empty() else "")
    )
    for c in hits[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        with st.container(border=True):
            st.text(clause_heading(c, c["rank"]))
            st.markdown(highlight(c["text"], terms), unsafe_allow_html=True)  # escaped in highlight()
            found = matched_terms(c["text"], terms)
            if found:
                st.text("匹配 matched: " + ", ".join(found))
            clause_actions(c, f"s-{c['clause_id']}")
    if pages > 1:
        left, mid, right = st.columns([1, 2, 1])
        left.button(
            "上一页 / previous",
            key="prev-page",
            disabled=page == 0,
            on_click=st.session_state.update,
            kwargs={"search_page": page - 1},
        )
        mid.text(f"第 {page + 1} / {pages} 页 · page {page + 1} of {pages}")
        right.button(
            "下一页 / next",
            key="next-page",
            disabled=page >= pages - 1,
            on_click=st.session_state.update,
            kwargs={"search_page": page + 1},
        )
