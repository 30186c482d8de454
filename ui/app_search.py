"""检索 Search: clauses for officers — filters, paging, reference lookup, highlighted query words.

Results come in two groups, each saying what it is: the clauses that contain a whole word of the query (or
are the clause it names by number), counted truly, and a short list of clauses related by meaning only.
When no clause contains the words, the page says so instead of filling the list with near misses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from policykb.index.filters import Filters, date_bounds, filter_key
from policykb.index.query_forms import default_lexicon
from policykb.index.references import Reference, label_key, words_besides_references
from policykb.index.search import Hit, PreparedQuery
from policykb.index.store import KnowledgeBase
from policykb.ingest.numbering import int_to_cn
from policykb.ingest.text import search_key
from policykb.ui.app_common import (
    REFERENCE_SPAN,
    clause_actions,
    clause_heading,
    highlight,
    matched_terms,
    md_escape,
    query_words,
)

PAGE_SIZE = 10
RELATED_MAX = 10  # clauses shown "related by meaning": a short reading list, not a result count
SCAN_MAX = 5000  # clauses one search ranks; beyond it a count of matches is a lower bound
QUERY_LABEL = "检索条款 / Search clauses (e.g. 第三十五条, 3.1.2, 收取费用)"
_SPLIT = re.compile(r"[,，、;；\s]+")
_FIELD_NAMES = {"region": "地区", "issuer": "发布机构", "platform": "平台", "doc_number": "文号"}
_EXAMPLES = {"region": "深圳", "issuer": "市场监管", "platform": "抖音", "doc_number": "〔2019〕3号"}
_FIELD_EN = {"region": "Region", "issuer": "Issuer", "platform": "Platform", "doc_number": "Document number"}
_UNITS = ("章", "节", "编")
# Menus in Chinese first (Streamlit's own placeholder and "Select all" are English only); typing filters
# by any part of a name, as the filters themselves do.
_MENU: dict[str, Any] = {"placeholder": "请选择 / choose", "select_all": False, "filter_mode": "contains"}


# -- filters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterChoice:
    """The filters as chosen on the page, and the words that say what they are."""

    filters: Filters
    summary: str  # 地区：广东省深圳市 · 日期：2023 至 2024 ("" when nothing is filtered)
    unmatched: tuple[str, ...] = ()  # warnings: typed names no stored name contains


def _typed(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in _SPLIT.split(text.strip()) if p))


def _names(
    field: str, chosen: list[str], typed: tuple[str, ...], known: list[str]
) -> tuple[list[str], list[str]]:
    """Human text for one name filter (深圳（广东省深圳市）) and warnings for typed parts matching nothing."""
    shown = list(chosen)
    unmatched = []
    for part in typed:
        key = filter_key(field, part)
        full = [name for name in known if key in filter_key(field, name)]
        if not full:
            zh, en = (
                ("文号", "document number")
                if field == "doc_number"
                else (f"{_FIELD_NAMES[field]}名称", f"{field} name")
            )
            unmatched.append(f"没有{zh}包含“{part}” / no {en} contains “{part}”")
        elif full != [part]:
            shown.append(f"{part}（{'、'.join(full)}）")
        else:
            shown.append(part)
    return shown, unmatched


def _dates(date_from: str, date_to: str) -> str | None:
    """An error message (Chinese / English) for a bad date or a range that ends before it starts."""
    for name, en, value in (("起始日期", "From date", date_from), ("截止日期", "To date", date_to)):
        if value:
            try:
                date_bounds(value)
            except ValueError as exc:
                return f"{name}“{value}”不是有效日期，请写 yyyy-mm-dd、yyyy-mm 或 yyyy / {en}: {exc}"
    if date_from and date_to and date_bounds(date_from)[0] > date_bounds(date_to)[1]:
        return (
            f"起始日期 {date_from} 晚于截止日期 {date_to}，请调换或修改 / "
            f"the From date {date_from} is after the To date {date_to}"
        )
    return None


def _filters(kb: KnowledgeBase) -> FilterChoice | None:
    """The filter widgets; ``None`` (with an error shown) when a date is wrong."""
    facets = kb.facets()
    titles = {d.doc_id: d.title for d in kb.documents()}
    with st.expander("筛选 Filters", expanded=False):
        columns = [*st.columns(2), *st.columns(2)]
        values: dict[str, tuple[str, ...]] = {}
        parts: list[str] = []
        unmatched: list[str] = []
        for column, (field, label) in zip(columns, _FIELD_NAMES.items(), strict=True):
            chosen = column.multiselect(
                f"{label} {_FIELD_EN[field]}",
                facets.get(field, []),
                key=f"f_{field}",
                **_MENU,
            )
            typed = _typed(
                column.text_input(
                    f"或输入{label}{'' if field == 'doc_number' else '名称'}的一部分（如 {_EXAMPLES[field]}）"
                    f"/ or part of {'a number' if field == 'doc_number' else 'a name'}",
                    key=f"f_{field}_text",
                )
            )
            values[field] = tuple(dict.fromkeys([*chosen, *typed]))
            shown, missing = _names(field, chosen, typed, facets.get(field, []))
            unmatched += missing
            if shown:
                parts.append(f"{label}：{'、'.join(shown)}")
        d, e, f = st.columns(3)
        docs = d.multiselect(
            "文档 Document",
            list(titles),
            format_func=lambda i: titles.get(i, i),
            key="f_doc",
            **_MENU,
        )
        date_from = e.text_input("起始日期 From（yyyy、yyyy-mm 或 yyyy-mm-dd）", key="f_from").strip()
        date_to = f.text_input("截止日期 To（yyyy、yyyy-mm 或 yyyy-mm-dd）", key="f_to").strip()
    error = _dates(date_from, date_to)
    if error:
        st.error(error)
        return None
    if docs:
        parts.append("文档：" + "、".join(f"《{titles.get(i, i)}》" for i in docs))
    if date_from or date_to:
        parts.append(f"日期：{date_from or '不限'} 至 {date_to or '不限'}")
    filters = Filters(
        region=values["region"] or None,
        issuer=values["issuer"] or None,
        platform=values["platform"] or None,
        doc_number=values["doc_number"] or None,
        doc_id=tuple(docs) or None,
        date_from=date_from or None,
        date_to=date_to or None,
    )
    return FilterChoice(filters, " · ".join(parts), tuple(unmatched))


# -- one search, split into the two groups ------------------------------------------------------------


def reference_name(ref: Reference, query: str) -> str:
    """How the query wrote ``ref`` (第三十五条, with the law it names: 电子商务法第三十五条), or a written
    form of its key when the query's own words cannot be found."""
    law = ref.law or ""
    for m in REFERENCE_SPAN.finditer(search_key(query)):
        if label_key(m.group()) == ref.key:
            return law + m.group()
    if ref.kind in ("条", *_UNITS) and ref.number.isdigit():
        return f"{law}第{int_to_cn(int(ref.number))}{ref.kind}"
    return f"({ref.number})" if ref.kind == "paren" else law + ref.number


def _is_reference(c: dict[str, Any], key: str) -> bool:
    """Whether clause ``c`` is the one reference ``key`` (``条:35``) names, by label or section heading."""
    keys = {label_key(c.get("label", "")), *(label_key(h) for h in c.get("section_path", []))}
    kind, _, number = key.partition(":")
    return key in keys or (kind == "条" and f"list:{number}" in keys)


def search_words(
    prepared: PreparedQuery, prepare: Callable[[str], PreparedQuery]
) -> tuple[list[str], list[str]]:
    """(the query's own whole words, those and the expansion terms of them): for 第三十五条规定了什么 no word
    at all — 规定 only asks what the clause says, so neither it nor its synonyms 规范/规则 are searched for.
    With references, the rest of the query is read again (``prepare``) on its own, so the words of
    "Article 35" are not 文章 and 35."""
    asks_a_clause = bool(prepared.references)
    if asks_a_clause:
        rest = words_besides_references(prepared.original)
        if not rest.strip():
            return [], []
        prepared = prepare(rest)
    own = query_words(prepared.zh, references=asks_a_clause)
    zh = search_key(prepared.zh)
    dropped: set[str] = set()
    kept: set[str] = set()
    for phrase, values in default_lexicon().colloquial_in(zh):
        overlaps = any(w in phrase or phrase in w for w in own)
        (kept if overlaps else dropped).update(search_key(v) for v in values)
    extra = [t for t in map(search_key, prepared.terms) if t and (t in kept or t not in dropped)]
    return own, list(dict.fromkeys([*own, *extra]))


def _split(kb: KnowledgeBase, q: str, filters: Filters) -> dict[str, Any]:
    """Rank the clauses the filters allow and sort them into contained / related (session-state values)."""
    total = kb.clause_count()
    retrieval = kb.retrieve(q, k=min(total, SCAN_MAX), filters=filters)
    refs = retrieval.query.references
    own, words = search_words(retrieval.query, kb.prepare)
    names = {r.key: reference_name(r, q) for r in refs}
    contained: list[dict[str, Any]] = []
    related: list[dict[str, Any]] = []
    for hit in retrieval.hits:
        c = _hit_dict(hit, names)
        if c["is_reference"] or matched_terms(c["text"], words, names):
            contained.append(c)
        elif len(related) < RELATED_MAX:
            related.append(c)
    present = {w for c in contained for w in matched_terms(c["text"], own)}
    return {
        "search_hits": contained + related,
        "search_contained": len(contained),
        "search_words": words,
        "search_refs": list(names),
        "search_absent": [w for w in own if w not in present],
        "search_refs_absent": [
            name for key, name in names.items() if not any(key in c["is_reference"] for c in contained)
        ],
        "search_no_words": not own and not refs,
        "search_all": total <= SCAN_MAX,
        "search_nothing": not retrieval.hits,
    }


def _hit_dict(hit: Hit, names: dict[str, str]) -> dict[str, Any]:
    """The clause of ``hit`` as a dict, with ``is_reference``: the references it is, key → as written."""
    c = {"rank": hit.rank, **hit.clause.to_dict()}
    named = "reference" in hit.signals
    c["is_reference"] = {k: n for k, n in names.items() if named and _is_reference(c, k)}
    if named and not c["is_reference"] and len(names) == 1:  # found another way (a 批复's 六、)
        c["is_reference"] = dict(names)
    return c


# -- the page ---------------------------------------------------------------------------------------


def _quoted(words: list[str]) -> tuple[str, str]:
    zh = "或".join(f"“{w}”" for w in words)
    return zh, " or ".join(f"“{w}”" for w in words)


def _card(c: dict[str, Any], n: int, words: list[str], refs: list[str]) -> None:
    with st.container(border=True):
        st.text(clause_heading(c, n))
        st.markdown(highlight(c["text"], words, refs), unsafe_allow_html=True)  # escaped in highlight()
        found = list(dict.fromkeys([*c["is_reference"].values(), *matched_terms(c["text"], words, refs)]))
        if found:
            st.text("匹配 matched: " + ", ".join(found))
        clause = {k: v for k, v in c.items() if k != "is_reference"}  # the basket keeps the clause only
        clause_actions(clause, f"s-{c['clause_id']}")


def _pager(page: int, pages: int) -> None:
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


def _absent_lines(words: list[str], references: list[str]) -> list[str]:
    """没有条款包含“退税” / no clause contains “退税”, 没有条款是第三十五条 / no clause is 第三十五条."""
    lines = []
    if words:
        zh, en = _quoted(words)
        lines.append(f"没有条款包含{zh} / no clause contains {en}")
    for name in references:
        lines.append(f"没有条款是{name} / no clause is {name}")
    return lines


def search_page(kb: KnowledgeBase) -> None:
    st.header("检索 Search")
    q = st.text_input(QUERY_LABEL, key="search_q").strip()
    choice = _filters(kb)
    if choice is None:
        return
    for line in choice.unmatched:
        st.warning(md_escape(line))
    if not q:
        return
    signature = (q, choice.filters, kb.generation)  # a new generation (an upload, a deletion) searches again
    if st.session_state.get("search_sig") != signature:
        st.session_state.update(search_sig=signature, search_page=0, **_split(kb, q, choice.filters))
    s = st.session_state
    hits: list[dict[str, Any]] = s["search_hits"]
    n = s["search_contained"]
    contained, related = hits[:n], hits[n:]
    words, refs = s["search_words"], s["search_refs"]
    if choice.summary:
        st.text("筛选 filters — " + choice.summary)
    if s["search_nothing"]:
        if not kb.documents():
            st.warning(
                "知识库里还没有文档，请先在“添加通知”页导入 / the knowledge base has no documents yet: "
                "add a notice first"
            )
        else:
            st.warning("没有符合筛选条件的条款 / no clause matches the filters")
        return
    at_least = "" if s["search_all"] else "至少 "
    st.subheader("包含检索词或条款号 / contains your words or reference")
    st.text(
        f"{at_least}{n} 条结果包含检索词或条款号 / "
        f"{'at least ' if at_least else ''}{n} results contain your words or reference"
    )
    absent = _absent_lines(s["search_absent"], s["search_refs_absent"])
    if s["search_no_words"]:
        st.warning("检索内容里没有可以匹配的词 / the query has no word to match")
    elif not contained:
        for line in absent:
            st.warning(md_escape(line))
    else:
        for line in absent:
            st.caption(md_escape(line))
    pages = max(1, -(-len(contained) // PAGE_SIZE))
    page = min(s.get("search_page", 0), pages - 1)
    for i, c in enumerate(contained[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], start=page * PAGE_SIZE + 1):
        _card(c, i, words, refs)
    if pages > 1:
        _pager(page, pages)
    if related:
        st.subheader("语义相关 / related by meaning")
        st.text(
            f"意思相近的前 {len(related)} 条（最多 {RELATED_MAX} 条），不包含检索词或条款号 / "
            f"the {len(related)} closest in meaning (at most {RELATED_MAX}), without your words or reference"
        )
        for i, c in enumerate(related, start=1):
            _card(c, i, words, refs)
