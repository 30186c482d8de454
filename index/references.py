"""Find the clause a query names by number: 第三十五条, 第35条, 《电子商务法》第三十五条, 第 7-1 條,
3.1.2, （十二）, 第二章 — and, when a law is named, only in the document whose title it names.

Labels and queries are reduced to the same key (``条:35``, ``条:7-1``, ``dot:3.1.2``, ``paren:12``,
``章:2``), so 三十五 and 35 meet.

>>> [r.key for r in parse_references("民法商法电子商务法第三十五条的内容是什么？")]
['条:35']
>>> parse_references("《電子商務法》第35條")[0].law
'电子商务法'
>>> _abbreviation_match("电子商务法", "电商法"), _abbreviation_match("消费者权益保护法", "消法")
(3, 2)
>>> label_key("第七条之一"), label_key("第 7-1 條"), label_key("（十二）"), label_key("3.1.2.")
('条:7-1', '条:7-1', 'paren:12', 'dot:3.1.2')
"""

from __future__ import annotations

import itertools
import json
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from policykb.ingest.numbering import NUMERAL_CHARS, cn_to_int
from policykb.ingest.text import CJK, CJK_UNIFIED, search_key

if TYPE_CHECKING:
    from policykb.index.records import Column, Columns

_NUM = rf"[0-9{NUMERAL_CHARS}]+"
# Each pattern reads a normalised (NFKC, t2s, lower-case) string.
_ARTICLE = re.compile(rf"第\s*(?P<n>{_NUM})\s*(?:-\s*(?P<dash>\d+)\s*)?条(?:\s*之\s*(?P<sub>{_NUM}))?")
_UNIT = re.compile(rf"第\s*(?P<n>{_NUM})\s*(?P<unit>编|章|节|部分)")
# 第3点 / 第三项 of a notice numbered 一、 1. (a 项 in parentheses is _PAREN): the list item so numbered
_POINT = re.compile(rf"第\s*(?P<n>{_NUM})\s*(?:点|项)")
_DOTTED = re.compile(
    r"(?<![\d.])(?P<n>\d{1,2}(?:\.\d{1,3}){1,4})\.?(?![\d%])(?!\s*(?:元|万|亿|倍|%|分|秒|米|g|kg))"
)
_PAREN = re.compile(rf"\(\s*(?P<n>{_NUM})\s*\)")
_ENGLISH = re.compile(r"\b(?:article|art\.)\s*(?P<n>\d+)(?:\s*-\s*(?P<dash>\d+))?")
# Label-only forms: list items "一、" and "2." name themselves but are too ambiguous to read from a query.
_LIST = re.compile(rf"(?P<n>{_NUM})\s*[、.]")

_TARGET_KINDS = ("条", "dot", "paren", "list")
# 第五部分 of a notice is its section 五、 (a heading labelled as a list item)
_KEY_KIND = {"部分": "list"}
_LAW_WORDS = (
    "法",
    "条例",
    "规定",
    "办法",
    "细则",
    "规则",
    "决定",
    "解释",
    "意见",
    "通知",
    "公告",
    "规范",
    "措施",
    "方案",
    "指引",
    "指南",
    "标准",
    "公约",
    "章程",
    "守则",
    "准则",
    "法典",
    "批复",
    "答复",
)
# a notice's name (ending in a law word of two characters or more), then up to six characters of a section
# name before the reference
_LAW_THEN_SECTION = re.compile(
    "(?P<law>.{2,}(?:"
    + "|".join(w for w in _LAW_WORDS if len(w) > 1)
    + "))[^"
    + "".join(sorted({w[-1] for w in _LAW_WORDS}))
    + "]{1,6}$"
)
_SELF_REFERENCES = ("本法", "该法", "此法", "本条例", "本规定", "本办法", "本细则", "本规则")
MIN_TITLE_MATCH = 3  # characters of a title's tail that must appear in the query ("广告法")
_CJK_RUN = re.compile(rf"[{CJK}]+$")  # reads search keys: no compatibility ideographs
_BOOK_TITLE = re.compile(r"《([^》]{2,40})》$")
_TITLE_NOISE = re.compile(r"[《》\"'“”‘’\s]|\([^)]*\)$")


@dataclass(frozen=True)
class Reference:
    kind: str  # 条 | dot | paren | 编 | 章 | 节
    number: str  # "35", "7-1", "3.1.2"
    law: str | None = None  # the law or notice named just before the reference, normalised

    @property
    def key(self) -> str:
        return f"{_KEY_KIND.get(self.kind, self.kind)}:{self.number}"


def _number(raw: str) -> str | None:
    n = cn_to_int(raw)
    return None if n is None else str(n)


def _article(m: re.Match[str]) -> str | None:
    n = _number(m["n"])
    sub = m["dash"] or m["sub"]
    if n is None:
        return None
    if sub:
        sub_n = _number(sub)
        return None if sub_n is None else f"{n}-{sub_n}"
    return n


def label_key(label: str) -> str | None:
    """The reference key a clause label or heading starts with, or ``None``."""
    text = search_key(label)
    for pattern, kind in (
        (_ARTICLE, "条"),
        (_UNIT, None),
        (_PAREN, "paren"),
        (_DOTTED, "dot"),
        (_LIST, "list"),
    ):
        m = pattern.match(text)
        if not m:
            continue
        if kind == "条":
            number = _article(m)
        elif kind == "dot":
            number = m["n"]
        else:
            number = _number(m["n"])
        if number is not None:
            return f"{kind or m['unit']}:{number}"
    return None


def _law_before(text: str, start: int) -> str | None:
    """The law named right before a reference: 《…》, or a run of CJK ending in a law word."""
    head = text[:start].rstrip(" 的之,，")
    book = _BOOK_TITLE.search(head)
    if book:
        return title_key(book[1])
    run = _CJK_RUN.search(head)
    if not run or run[0].endswith(_SELF_REFERENCES):
        return None
    name = run[0]
    if not name.endswith(_LAW_WORDS):
        # 综保区意见主要任务第18条: a section's name between the notice and the number
        inner = _LAW_THEN_SECTION.search(name)
        if not inner:
            return None
        name = inner["law"]
    return title_key(name)


def parse_references(query: str) -> list[Reference]:
    """Every reference in ``query``, in order of appearance."""
    text = search_key(query)
    found: list[tuple[int, Reference]] = []
    for m in _ARTICLE.finditer(text):
        if (number := _article(m)) is not None:
            found.append((m.start(), Reference("条", number, _law_before(text, m.start()))))
    for m in _ENGLISH.finditer(text):
        number = m["n"] + (f"-{m['dash']}" if m["dash"] else "")
        found.append((m.start(), Reference("条", number)))
    for m in _UNIT.finditer(text):
        if (number := _number(m["n"])) is not None:
            found.append((m.start(), Reference(m["unit"], number, _law_before(text, m.start()))))
    for m in _POINT.finditer(text):
        if (number := _number(m["n"])) is not None:
            found.append((m.start(), Reference("list", number)))
    for pattern, kind in ((_DOTTED, "dot"), (_PAREN, "paren")):
        for m in pattern.finditer(text):
            number = m["n"] if kind == "dot" else _number(m["n"])
            if number is not None:
                found.append((m.start(), Reference(kind, number)))
    found.sort(key=lambda pair: pair[0])
    return [ref for _, ref in found]


def item_numbers(text: str) -> set[str]:
    """The numbers of the items in parentheses that ``text`` holds: （八） → "8"."""
    return {n for m in _PAREN.finditer(search_key(text)) if (n := _number(m["n"])) is not None}


# Words that only ask what a named clause says (…第八条规定了什么 / 的内容是什么): nothing to rank its parts by.
SAYS_WORDS = frozenset(
    {
        "规定",
        "讲",
        "讲的",
        "说",
        "写",
        "内容",
        "具体",
        "条文",
        "原文",
        "全文",
        "意思",
        "主要",
        "了",
        "啥",
        "什么样",
    }
)


def words_besides_references(query: str) -> str:
    """``query`` (as a search key) without its references and the laws they name: what else it asks.

    >>> words_besides_references("消费者保护法第二条对通讯交易是怎么定义的？")
    '对通讯交易是怎么定义的?'
    >>> words_besides_references("《电子商务法》第三十八条规定了什么")
    '规定了什么'
    """
    text = search_key(query)
    spans: list[tuple[int, int]] = []
    for pattern in (_ARTICLE, _ENGLISH, _UNIT, _POINT, _DOTTED, _PAREN):
        for m in pattern.finditer(text):
            start = m.start()
            if pattern in (_ARTICLE, _UNIT) and _law_before(text, start) is not None:
                head = text[:start].rstrip(" 的之,，")
                law = _BOOK_TITLE.search(head) or _CJK_RUN.search(head)
                start = law.start() if law else start
            spans.append((start, m.end()))
    out, pos = [], 0
    for start, end in sorted(spans):
        out.append(text[pos : max(pos, start)])
        pos = max(pos, end)
    out.append(text[pos:])
    return "".join(out).strip()


def title_key(title: str) -> str:
    """A title reduced for matching: no 《》/quotes/spaces, no trailing (2018修正), no 中华人民共和国."""
    key = _TITLE_NOISE.sub("", search_key(title))
    return key.removeprefix("中华人民共和国")


# 关于印发《…办法》的通知: the notice that issues a document is named by the document's own title too
_ISSUING = re.compile(r"关于(?:印发|转发|发布|公布|颁布)(?P<inner>.{2,}?)的(?:通知|公告|决定)$")


def title_names(title: str) -> tuple[str, ...]:
    """``title_key`` of a title, and of the document it issues, if it is a 关于印发…的通知.

    >>> title_names("关于印发《网络交易监督管理办法》的通知")
    ('关于印发网络交易监督管理办法的通知', '网络交易监督管理办法')
    """
    key = title_key(title)
    m = _ISSUING.search(key)
    return (key, m["inner"]) if m else (key,)


# What a title's tail holds besides its law word that names nothing by itself: a question's "…的规定" or
# "这个问题的规定" is not the name of 最高人民法院关于…若干问题的规定
_UNNAMING = re.compile("若干|问题|有关|相关|关于|几个|这个|这份|什么|法律|法规|规章|国家|[的之和与及]")


def _names_something(tail: str) -> bool:
    """Whether ``tail`` (the end of a title, or a law name in a query) holds a word of its own besides its law
    word: 广告法, 消法 do; 的规定, 问题的规定 do not.

    >>> _names_something("广告法"), _names_something("消法"), _names_something("问题的规定")
    (True, True, False)
    """
    return bool(_UNNAMING.sub("", tail.removesuffix(_law_word(tail))))


def _tail_match(title: str, law: str) -> int:
    """Length of the longest tail of ``title`` that occurs in ``law`` (0 if shorter than the minimum, or if it
    names nothing besides its law word: ``_names_something``). Only part of the title found after words of
    ``law``'s own does not name it by its tail: 个人资料保护法 does not end 消费者权益保护法, 台湾的消费者保护法 ends
    消费者保护法. (Either may still abbreviate a title: ``_abbreviation_match``, tried when no tail matches.)

    >>> _tail_match("消费者权益保护法", "个人资料保护法"), _tail_match("消费者保护法", "台湾的消费者保护法")
    (0, 6)
    """
    for size in range(len(title), MIN_TITLE_MATCH - 1, -1):
        tail = title[-size:]
        if tail in law:
            before = law[: law.rindex(tail)]
            if not _names_something(tail) or (size < len(title) and len(_UNNAMING.sub("", before)) >= 2):
                return 0
            return size
    return 0


# A law's name as a query writes it: a few characters ending in a law word (电商法, 消保法, 七日无理由退货办法).
_LAW_NAME = re.compile(
    rf"[{CJK_UNIFIED}]{{1,10}}?(?:法|条例|办法|规定|细则|规则|解释|意见|措施|方案)(?![{CJK_UNIFIED}]{{0,1}}律)"
)


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _law_word(title: str) -> str:
    """The law word ``title`` ends with (办法, not 法), else its last character."""
    return max((w for w in _LAW_WORDS if title.endswith(w)), key=len, default=title[-1])


def _abbreviation_match(title: str, law: str) -> int:
    """Length of the longest tail of ``law`` (≥ 2 chars) that abbreviates ``title``: its characters in order,
    ending with the title's last character (电商法 ← 电子商务法, 消保法 ← 消费者权益保护法), a 的 in it standing
    where the title's last 的 does, 0 if none."""
    word = _law_word(title)
    if not law.endswith(word):
        return 0
    for size in range(min(len(law), len(title) - 1), len(word), -1):  # something besides the law word
        tail = law[-size:]
        if "的" in tail and tail.rpartition("的")[2] != title.rpartition("的")[2]:
            continue  # a 的 is the title's last 的 (…纠纷的批复): 平台的规定 is no 平台经营者…的若干规定
        if tail.endswith(word) and _is_subsequence(tail, title):
            return size if _names_something(tail) else 0
    return 0


class RowDocs(Protocol):
    """Row → the id of its document."""

    def __getitem__(self, row: int, /) -> str: ...


class _DocColumn:
    """Row → document id, from the doc_id column."""

    def __init__(self, column: Column):
        self.column = column

    def __getitem__(self, row: int) -> str:
        return self.column.table[int(self.column.codes[row])]


def _rows_by_value(column: Column) -> Iterator[tuple[str, np.ndarray]]:
    """Each value of ``column``'s table with the rows holding it (ascending)."""
    order = np.argsort(column.codes, kind="stable")
    ends = np.cumsum(np.bincount(column.codes + 1, minlength=len(column.table) + 1))
    for code, value in enumerate(column.table):
        yield value, order[ends[code] : ends[code + 1]]


class ReferenceIndex:
    """Clause rows by label key and by the keys of their section headings; document titles."""

    def __init__(self, labels: Iterable[tuple[int, str, str, tuple[str, ...]]], titles: dict[str, str]):
        """``labels``: (row, doc_id, label, section_path) for every clause in reading order."""
        self.by_label: dict[str, array[int]] = defaultdict(lambda: array("q"))
        self.by_heading: dict[str, array[int]] = defaultdict(lambda: array("q"))
        doc_of: dict[int, str] = {}
        self.doc_of: RowDocs = doc_of
        keys: dict[str, str | None] = {}  # labels and headings repeat across clauses and documents

        def key_of(text: str) -> str | None:
            if text not in keys:
                keys[text] = label_key(text)
            return keys[text]

        for row, doc_id, label, path in labels:
            doc_of[row] = doc_id
            if label and (key := key_of(label)):
                self.by_label[key].append(row)
            for key in {k for h in path if (k := key_of(h))}:
                self.by_heading[key].append(row)
        self._titled(titles)

    @classmethod
    def from_columns(cls, columns: Columns, titles: dict[str, str]) -> ReferenceIndex:
        """The index of a generation's columns (``records.Columns``): each distinct label and section path
        is read once, its rows found by their codes, so no per-row Python object is made."""
        index = cls([], titles)
        index.doc_of = _DocColumn(columns.fields["doc_id"])
        by_label: dict[str, list[np.ndarray]] = defaultdict(list)
        by_heading: dict[str, list[np.ndarray]] = defaultdict(list)
        keys: dict[str, str | None] = {}
        for label, rows in _rows_by_value(columns.fields["label"]):
            if label and (key := keys.setdefault(label, label_key(label))):
                by_label[key].append(rows)
        for path, rows in _rows_by_value(columns.fields["section_path"]):
            headings = json.loads(path)
            for key in {k for h in headings if (k := keys.setdefault(h, label_key(h)))}:
                by_heading[key].append(rows)
        for target, parts in ((index.by_label, by_label), (index.by_heading, by_heading)):
            for key, arrays in parts.items():
                target[key].frombytes(np.sort(np.concatenate(arrays)).astype(np.int64).tobytes())
        return index

    def _titled(self, titles: dict[str, str]) -> None:
        self.names = {doc_id: title_names(t) for doc_id, t in titles.items()}
        self.titles = {doc_id: names[0] for doc_id, names in self.names.items()}
        # Names by their last MIN_TITLE_MATCH characters, and by the law word ``_abbreviation_match`` needs
        # them to end with: a law name is matched against the few names it can match, not every document's
        # (150 ms a query at 22,616 documents before).
        self._by_tail: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._by_word: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for doc_id, names in self.names.items():
            for name in names:
                if len(name) >= MIN_TITLE_MATCH:
                    self._by_tail[name[-MIN_TITLE_MATCH:]].append((doc_id, name))
                if name:
                    self._by_word[_law_word(name)].append((doc_id, name))

    def _best(self, pairs: Iterable[tuple[str, str]], score: Callable[[str, str], int], law: str) -> set[str]:
        """Documents of ``pairs`` (doc_id, name) whose best name scores highest against ``law`` (> 0)."""
        scores: dict[str, int] = {}
        for doc_id, name in pairs:
            scores[doc_id] = max(scores.get(doc_id, 0), score(name, law))
        best = max(scores.values(), default=0)
        return {doc_id for doc_id, s in scores.items() if s == best} if best else set()

    def documents_named(self, law: str) -> set[str]:
        """Documents whose title's longest tail found in ``law`` is the longest of all (≥ 3 chars); failing
        that, documents whose title ``law`` abbreviates (电商法, 消法, 杭州跨境电商条例)."""
        tails = {law[i : i + MIN_TITLE_MATCH] for i in range(len(law) - MIN_TITLE_MATCH + 1)}
        found = self._best(
            (p for tail in tails for p in self._by_tail.get(tail, ())), _tail_match, law
        )  # a name whose last 3 characters are not in ``law`` scores 0
        if found:
            return found
        words = (law[-size:] for size in range(1, len(law) + 1))  # a name ends with a word ``law`` ends with
        return self._best((p for w in words for p in self._by_word.get(w, ())), _abbreviation_match, law)

    def _ends_a_title(self, name: str) -> bool:
        """Some document's title (not the name of a document it issues) ends with ``name`` (≥ 3 chars)."""
        return len(name) >= MIN_TITLE_MATCH and any(
            n == self.titles[doc_id] and n.endswith(name)
            for doc_id, n in self._by_tail.get(name[-MIN_TITLE_MATCH:], ())
        )

    def titles_named(self, query: str) -> list[str]:
        """Titles of the documents a law name in ``query`` abbreviates or ends (电商法, 消法, 广告法), for
        a query that names a law without naming an article; [] when it names none."""
        out: list[str] = []
        for m in _LAW_NAME.finditer(search_key(query)):
            name = m.group()
            if self._ends_a_title(name):
                continue  # the title's own words are in the query already
            for doc_id in sorted(self.documents_named(name)):
                if self.titles[doc_id] not in out:
                    out.append(self.titles[doc_id])
        return out

    def labelled(self, doc_id: str, key: str) -> int | None:
        """The first row of ``doc_id`` whose label has reference key ``key`` (``条:12``), or None."""
        return next((r for r in self.by_label.get(key, ()) if self.doc_of[r] == doc_id), None)

    def lookup(self, refs: list[Reference]) -> list[int]:
        """Rows the references name, in reading order; [] when a named law is not in the index."""
        if not refs:
            return []
        law = next((r.law for r in refs if r.law), None)
        docs = self.documents_named(law) if law else None
        if docs is not None and not docs:
            return []
        # 第七条第（八）项: the item (八) of article 7, （三）第2点: point 2 of item (三) — a reference
        # followed by one found under it scopes it, and is not a second target
        within = [
            a
            for a, b in itertools.pairwise(refs)
            if a.kind in _TARGET_KINDS
            and b.kind in _TARGET_KINDS
            and set(self.by_heading.get(a.key, ())) & set(self.by_label.get(b.key, ()))
        ]
        targets = [r for r in refs if r.kind in _TARGET_KINDS and r not in within]
        scopes = [
            set(self.by_heading.get(r.key, ())) for r in refs if r.kind not in _TARGET_KINDS or r in within
        ]
        rows: set[int] = set()
        if targets:
            for ref in targets:
                hits = set(self.by_label.get(ref.key, ())) or set(self.by_heading.get(ref.key, ()))
                if docs and ref.kind == "条" and not any(self.doc_of[r] in docs for r in hits):
                    # a named notice numbered 一、二、 (a 批复, an 意见) has no 第六条: its 六、 is meant
                    hits = {r for r in self.by_label.get(f"list:{ref.number}", ()) if self.doc_of[r] in docs}
                scoped = hits.intersection(*scopes) if scopes else hits
                rows |= scoped or hits
        elif scopes:
            rows = set.intersection(*scopes)
        if docs is not None:
            rows = {r for r in rows if self.doc_of[r] in docs}
        return sorted(rows)
