"""Excerpts a consultant collects — clauses with their full references — and the files they take away.

>>> from policykb.ingest.record import Clause, Metadata, Source
>>> c = Clause.create(doc_id="sz", title="通知", label="2.", section_path=["二、流程"], text="不收取费用。",
...                   original="不收取费用。", source=Source("corpus/sz.txt", 10, 16),
...                   metadata=Metadata(issuer="深圳市商务局", date="2020-03-16"), seq=0)
>>> basket = Basket()
>>> basket.add(Excerpt.from_clause(c, note="报名免费")), basket.add(Excerpt.from_clause(c))
(True, False)
>>> reference_lines(basket.excerpts[0])
['文档：通知', '发布机构：深圳市商务局', '发布日期：2020-03-16', '章节：二、流程', '条款：2.', '来源文件：sz.txt', '备注：报名免费']
>>> data, mime, ext = export(basket.excerpts, "csv")
>>> data[:3] == "\\ufeff".encode("utf-8"), ext
(True, 'csv')

Every format carries the same fields (``FIELDS``: title, issuer, date, section, label, validity, source
file, original wording, note) and, for the clauses of an answer, the question and the answer; only JSON
holds clause ids and character offsets. Every exporter takes ``redact=True`` to mask personal data
(RELIABILITY 27) through the one function ``redact`` (``find_pii`` lists what it will mask); CSV cells that a spreadsheet would run as a formula are neutralised and characters XML cannot
hold are stripped before a DOCX is written (RELIABILITY 25).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from policykb.errors import PolicyKBError
from policykb.ingest.record import Clause, Document, Metadata

if TYPE_CHECKING:
    from policykb.index.search import Hit
    from policykb.qa.answer import Answer

JSON_FORMAT = "policykb-excerpts"
JSON_VERSION = 1
HEADING = "条款摘录"

# -- personal data (RELIABILITY 27) -------------------------------------------------------------

MASKS = {
    "zh": {
        "email": "[邮箱已隐去]",
        "id": "[身份证号已隐去]",
        "mobile": "[手机号已隐去]",
        "landline": "[电话已隐去]",
        "name": "[姓名已隐去]",
    },
    "en": {
        "email": "[redacted e-mail]",
        "id": "[redacted ID number]",
        "mobile": "[redacted phone]",
        "landline": "[redacted phone]",
        "name": "[redacted name]",
    },
}
KIND_LABELS = {
    "email": "邮箱 e-mail",
    "id": "身份证号 ID number",
    "mobile": "手机号 mobile",
    "landline": "电话 phone",
    "name": "姓名 name",
}
# Order matters: an e-mail or an ID number contains digit runs the phone patterns would otherwise take.
PII_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("id", re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")),
    ("mobile", re.compile(r"(?<![\d+])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")),
    (
        "landline",
        re.compile(r"(?<![\d-])(?:[(（]0\d{2,3}[)）]\s?|0\d{2,3}[-－\s])\d{7,8}(?:(?:-|转)\d{1,6})?(?!\d)"),
    ),
)
# A contact line: the sentence or line a phone number, ID number or e-mail address is in.
_SEGMENT = re.compile(r"[^。；;！？\n]+")
_HAN = r"[\u4e00-\u9fff·]"
# Where a name ends: punctuation, a digit, the next contact word ("张三电话：…"), the end.
_NAME_END = r"(?=[\s，,、；;：:（(）)。.！？/]|电话|手机|座机|固话|传真|邮箱|电邮|邮件|联系|身份证|\d|$)"
_CONTACT_WORDS = r"联系人|联络人|负责人|经办人|对接人|咨询人|申报人|收件人|姓名"
# "联系人：张三" names a person wherever it is written (the colon is required outside contact lines).
_LABELLED_NAME = re.compile(rf"(?:{_CONTACT_WORDS})[:：]\s*({_HAN}{{2,4}}?){_NAME_END}")
# In a contact line the colon may be missing or a space: "联系人张三，电话…", "联系人 张三 138…".
_LOOSE_NAME = re.compile(rf"(?:{_CONTACT_WORDS})\s*[:：]?\s*({_HAN}{{2,4}}?){_NAME_END}")
# "王先生", "李女士", "赵老师" in a contact line.
# A two-character surname only where the name starts a word; otherwise one ("请联系王先生").
_TITLED_NAME = re.compile(
    rf"((?:(?<!{_HAN}){_HAN}{{1,2}}|{_HAN})(?:先生|女士|小姐|老师|同志|经理|主任|科长|处长))"
)
# The name just before a number or address, after its organisation: "深圳市商务局张文雅，电话：…",
# "联系人：腾讯微视崔岩，电话：…", "李四 139…". The Han characters before it (contact words left out) end
# in a name when they end in a common surname and one or two more characters.
_BEFORE_CONTACT = re.compile(
    rf"({_HAN}{{2,}}?)\s*[，,、：:]?\s*(?:联系电话|联系方式|电话|手机号码|手机|座机|固话|传真|电子邮箱|邮箱|电邮"
    r"|微信|热线|号码)?\s*[：:]?\s*$"
)
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施"
    "文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷"
    "盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷"
    "晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
# What an organisation or a service ends in, never a given name: "市场监管局" is not a person "管局".
_NOT_LAST = frozenset("局会厅委部办处司心台室站所院队组科行店号线话机箱址服询务真网端区市县省")


def _name_before(run: str) -> str | None:
    for size in (3, 2):
        name = run[-size:]
        if len(name) == size and name[0] in SURNAMES and name[-1] not in _NOT_LAST:
            return name
    return None


_NOT_NAMES = re.compile(
    r"(电话|手机|座机|固话|热线|方式|传真|邮箱|电邮|联系|咨询|服务|客服|投诉|举报|办公室|地址|号|码|证|件)$"
)


class Found(NamedTuple):
    """One piece of personal data in a text: what kind, where, and the characters themselves."""

    kind: str
    start: int
    end: int
    text: str


def find_pii(text: str) -> list[Found]:
    """The personal data ``redact`` masks, in text order: mobile, landline and ID card numbers, e-mail
    addresses, and the names written beside them in contact lines.

    >>> [(f.kind, f.text) for f in find_pii("联系人：张三，电话：13812345678。")]
    [('name', '张三'), ('mobile', '13812345678')]
    """
    found: list[Found] = []

    def take(kind: str, start: int, end: int) -> None:
        if start < end and not any(f.start < end and start < f.end for f in found):
            found.append(Found(kind, start, end, text[start:end]))

    for kind, pattern in PII_PATTERNS:
        for m in pattern.finditer(text):
            take(kind, m.start(), m.end())
    for m in _LABELLED_NAME.finditer(text):
        take("name", m.start(1), m.end(1))
    contacts = [f for f in found if f.kind != "name"]
    for seg in _SEGMENT.finditer(text):
        if not any(seg.start() <= f.start < seg.end() for f in contacts):
            continue
        line = seg[0]
        for pattern in (_LOOSE_NAME, _TITLED_NAME):
            for m in pattern.finditer(line):
                if not _NOT_NAMES.search(m[1]):
                    take("name", seg.start() + m.start(1), seg.start() + m.end(1))
        for f in contacts:
            if seg.start() <= f.start < seg.end():
                before = _BEFORE_CONTACT.search(text, seg.start(), f.start)
                name = _name_before(before[1]) if before else None
                if before and name and not _NOT_NAMES.search(name):
                    take("name", before.end(1) - len(name), before.end(1))
    return sorted(found, key=lambda f: f.start)


def redact(text: str, *, lang: str = "zh") -> str:
    """``text`` with mainland mobile numbers, ID card numbers (18- and 15-digit), e-mail addresses,
    landline numbers with an area code and the contact names beside them replaced by a mask; dates,
    amounts and article numbers are kept.

    >>> redact("联系人：王先生 13812345678，0755-83456789，wang@example.com；于2020-03-16前按第35条缴纳50元。")
    '联系人：[姓名已隐去] [手机号已隐去]，[电话已隐去]，[邮箱已隐去]；于2020-03-16前按第35条缴纳50元。'
    """
    masks = MASKS.get(lang, MASKS["zh"])
    out, pos = [], 0
    for f in find_pii(text):
        out += [text[pos : f.start], masks[f.kind]]
        pos = f.end
    out.append(text[pos:])
    return "".join(out)


# -- characters and cells ------------------------------------------------------------------------

# What XML 1.0 cannot hold: C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def strip_control(text: str) -> str:
    """``text`` without the characters XML (hence DOCX) cannot hold; python-docx raises on them."""
    return XML_ILLEGAL.sub("", text)


# What a spreadsheet may skip before reading a formula: spaces of any width, DEL, zero-width characters.
_SKIPPED = re.compile("^[\\s\u3000\x7f\u200b-\u200d\u2060\ufeff]*")


def csv_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text: one whose first visible character is = + - @ in any width
    (＝SUM…), after spaces, ideographic spaces or DEL, or that starts with tab/CR, gets a leading quote."""
    skipped = _SKIPPED.match(cell)
    assert skipped is not None  # the pattern also matches nothing
    first = unicodedata.normalize("NFKC", cell[skipped.end() :][:1])
    return "'" + cell if cell.startswith(FORMULA_STARTS) or (first and first in "=+-@") else cell


# -- the excerpt and the basket ------------------------------------------------------------------


class UnknownFormatError(PolicyKBError, ValueError):
    """An export format that is not in ``FORMATS``."""


@dataclass(frozen=True)
class Excerpt:
    """One clause (as ``Clause.to_dict()``) a consultant keeps, with their note, the validity period of
    its document and, when it came from an answer, the question and answer text it was cited in."""

    clause: dict[str, Any]
    note: str = ""
    question: str | None = None
    answer: str | None = None
    time_note: str | None = None  # the citation's time-bound note ("时效性通知，有效期 … （已结束）")
    valid_from: str | None = None  # the document's validity period (Document.valid_from/valid_to)
    valid_to: str | None = None

    @classmethod
    def from_clause(
        cls,
        clause: Clause | Mapping[str, Any],
        *,
        note: str = "",
        question: str | None = None,
        answer: str | None = None,
        time_note: str | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> Excerpt:
        """From a ``Clause``, its ``to_dict()``, or any dict holding those fields (a citation, a hit);
        a citation's ``time_note``, ``valid_from`` and ``valid_to`` come along."""
        if isinstance(clause, Clause):
            return cls(clause.to_dict(), note, question, answer, time_note, valid_from, valid_to)
        try:
            d = Clause.from_dict(dict(clause)).to_dict()
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"not a clause: {exc} is missing or malformed; an excerpt needs the fields of "
                "Clause.to_dict()"
            ) from exc
        return cls(
            d,
            note,
            question,
            answer,
            time_note or clause.get("time_note"),
            valid_from or clause.get("valid_from"),
            valid_to or clause.get("valid_to"),
        )

    def with_document(self, document: Document | None) -> Excerpt:
        """A copy with the validity period of ``document`` (the clause's own document)."""
        if document is None:
            return self
        return replace(self, valid_from=document.valid_from, valid_to=document.valid_to)

    @property
    def clause_id(self) -> str:
        return cast(str, self.clause["clause_id"])

    @property
    def section(self) -> str:
        """The section path and the clause's own label: "二、业务流程 > （一）活动报名。 > 2."."""
        return " > ".join([*self.clause["section_path"], self.clause["label"]]).strip(" >")

    @property
    def validity(self) -> str:
        """What Ask's citation says about the document's time limits, in Chinese, as of today:
        "时效性通知，有效期 2020-03-01 至 2020-06-30（已结束）"; "" for a standing rule with no dates."""
        from policykb.qa.citations import validity_note

        if self.time_note and not (self.valid_from or self.valid_to):
            return self.time_note  # an excerpt saved before the dates were kept
        meta = Metadata(**self.clause["metadata"])
        return validity_note(meta, self.valid_from, self.valid_to, lang="zh") or ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "note": self.note,
            "question": self.question,
            "answer": self.answer,
            "time_note": self.time_note,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Excerpt:
        return cls.from_clause(
            d["clause"],
            note=d.get("note") or "",
            question=d.get("question"),
            answer=d.get("answer"),
            time_note=d.get("time_note"),
            valid_from=d.get("valid_from"),
            valid_to=d.get("valid_to"),
        )

    def redacted(self, lang: str = "zh") -> Excerpt:
        """A copy with personal data masked in every free-text field (ids, paths and dates are left)."""
        c = dict(self.clause)
        for key in ("text", "original", "title", "label"):
            c[key] = redact(c[key], lang=lang)
        c["section_path"] = [redact(s, lang=lang) for s in c["section_path"]]
        opt: Callable[[str | None], str | None] = lambda s: redact(s, lang=lang) if s else s
        return replace(
            self,
            clause=c,
            note=cast(str, opt(self.note)),
            question=opt(self.question),
            answer=opt(self.answer),
        )

    def pii(self) -> list[Found]:
        """The personal data ``redacted`` would mask, field by field in reading order."""
        c = self.clause
        texts = [self.question, self.answer, c["title"], *c["section_path"], c["label"], c["text"]]
        texts += [c["original"] if c["original"] != c["text"] else None, self.note]
        return [f for t in texts if t for f in find_pii(t)]


def excerpts_from_answer(result: Answer | Mapping[str, Any]) -> list[Excerpt]:
    """The citations of an ``Answer`` (or its ``to_dict()``), in [n] order, each with the answer text."""
    d: Mapping[str, Any] = result if isinstance(result, Mapping) else result.to_dict()
    return [Excerpt.from_clause(c, question=d["question"], answer=d["answer"]) for c in d["citations"]]


def excerpts_from_hits(hits: Iterable[Hit | Mapping[str, Any]]) -> list[Excerpt]:
    """Search hits (``Hit`` objects, or dicts holding the clause fields) in rank order."""
    return [Excerpt.from_clause(h if isinstance(h, Mapping) else h.clause) for h in hits]


@dataclass
class Basket:
    """The excerpts collected so far, in the order the consultant wants them; one entry per clause.

    ``basket.to_json()`` is the JSON export; ``Basket.from_json`` reads it back.
    """

    excerpts: list[Excerpt] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.excerpts)

    def __iter__(self) -> Iterator[Excerpt]:
        return iter(self.excerpts)

    def __contains__(self, clause_id: object) -> bool:
        return self.index(clause_id) is not None  # type: ignore[arg-type]

    def ids(self) -> list[str]:
        return [e.clause_id for e in self.excerpts]

    def index(self, clause_id: str) -> int | None:
        return next((i for i, e in enumerate(self.excerpts) if e.clause_id == clause_id), None)

    def add(self, excerpt: Excerpt) -> bool:
        """Append ``excerpt``; ``False`` (and nothing changes) when its clause is already in the basket."""
        if excerpt.clause_id in self:
            return False
        self.excerpts.append(excerpt)
        return True

    def remove(self, clause_id: str) -> bool:
        i = self.index(clause_id)
        if i is None:
            return False
        del self.excerpts[i]
        return True

    def move_up(self, clause_id: str) -> bool:
        """Swap with the one before; ``False`` when already first or not in the basket."""
        return self._swap(clause_id, -1)

    def move_down(self, clause_id: str) -> bool:
        return self._swap(clause_id, +1)

    def _swap(self, clause_id: str, step: int) -> bool:
        i = self.index(clause_id)
        if i is None or not 0 <= i + step < len(self.excerpts):
            return False
        self.excerpts[i], self.excerpts[i + step] = self.excerpts[i + step], self.excerpts[i]
        return True

    def set_note(self, clause_id: str, note: str) -> bool:
        i = self.index(clause_id)
        if i is None:
            return False
        self.excerpts[i] = replace(self.excerpts[i], note=note)
        return True

    def clear(self) -> None:
        self.excerpts.clear()

    def to_json(self) -> str:
        return _json_text(self.excerpts)

    @classmethod
    def from_json(cls, text: str | bytes) -> Basket:
        """From ``to_json()`` or an exported .json file (the same shape)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        data = json.loads(text) if text.strip() else {"excerpts": []}
        if not isinstance(data, dict) or data.get("format", JSON_FORMAT) != JSON_FORMAT:
            raise ValueError(
                f"not a policykb excerpt list: expected a JSON object with format {JSON_FORMAT!r}"
            )
        basket = cls()
        for d in data.get("excerpts", []):
            basket.add(Excerpt.from_dict(d))
        return basket


# -- the fields every format carries -------------------------------------------------------------

# Each excerpt's reference, in this order, with its Chinese label (DOCX, Markdown) and CSV column.
FIELDS: tuple[tuple[str, str], ...] = (
    ("title", "文档"),
    ("issuer", "发布机构"),
    ("date", "发布日期"),
    ("section", "章节"),
    ("label", "条款"),
    ("validity", "时效"),
    ("source", "来源文件"),
    ("original", "原文"),
    ("note", "备注"),
)


def source_text(e: Excerpt) -> str:
    """The file the clause comes from, by name, and its page for a PDF: "sz.pdf，第 3 页"."""
    s = e.clause["source"]
    name = re.split(r"[\\/]", s["path"])[-1]
    return f"{name}，第 {s['page']} 页" if s.get("page") else name


def excerpt_fields(e: Excerpt) -> dict[str, str]:
    """The reference of one excerpt, as ``FIELDS`` names it; "" where the notice says nothing.
    ``original`` is the wording as written when it differs from the text (e.g. Traditional)."""
    c, m = e.clause, e.clause["metadata"]
    values = {
        "title": c["title"],
        "issuer": m.get("issuer") or "",
        "date": m.get("date") or "",
        "section": " > ".join(c["section_path"]),
        "label": c["label"],
        "validity": e.validity,
        "source": source_text(e),
        "original": c["original"] if c["original"] != c["text"] else "",
        "note": e.note,
    }
    return {key: values[key] for key, _ in FIELDS}


def reference_lines(e: Excerpt) -> list[str]:
    """The reference as "label：value" lines, the empty fields left out."""
    values = excerpt_fields(e)
    return [f"{label}：{values[key]}" for key, label in FIELDS if values[key]]


class Group(NamedTuple):
    """One basket entry: a clause on its own, or an answer with the clauses it cites ([1], [2], …)."""

    question: str | None
    answer: str | None
    excerpts: list[Excerpt]


def groups(excerpts: Iterable[Excerpt]) -> list[Group]:
    """Consecutive excerpts cited in the same answer form one group; every other excerpt is its own."""
    out: list[Group] = []
    for e in excerpts:
        last = out[-1] if out else None
        if e.answer is not None and last and (last.question, last.answer) == (e.question, e.answer):
            last.excerpts.append(e)
        else:
            out.append(Group(e.question, e.answer, [e]))
    return out


def _prepare(excerpts: Iterable[Excerpt], redact_pii: bool) -> list[Group]:
    items = list(excerpts)
    return groups([e.redacted() for e in items] if redact_pii else items)


# -- exporters -----------------------------------------------------------------------------------


def to_docx(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """A Word document: per entry the question and answer when it is one, then each clause's text
    (Simplified) and its reference in small grey type."""
    from docx import Document as DocxDocument
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    doc = DocxDocument()
    normal = doc.styles["Normal"]
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    doc.core_properties.title = HEADING
    doc.add_heading(HEADING, level=1)
    for n, g in enumerate(_prepare(excerpts, redact), 1):
        if g.answer is not None:
            p = doc.add_paragraph()
            p.add_run(f"[{n}] 问题：").bold = True
            p.add_run(strip_control(g.question or ""))
            p = doc.add_paragraph()
            p.add_run("回答：").bold = True
            p.add_run(strip_control(g.answer))
        for j, e in enumerate(g.excerpts, 1):
            p = doc.add_paragraph()
            p.add_run(f"引文 [{j}] " if g.answer is not None else f"[{n}] ").bold = True
            p.add_run(strip_control(e.clause["text"]))
            for line in reference_lines(e):
                run = doc.add_paragraph().add_run(strip_control(line))
                run.font.size = Pt(9)
                run.font.color.rgb = RGBColor(0x55, 0x55, 0x55)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# What Markdown would read as markup in notice text: "_" only where it can open or close emphasis (not
# inside a word or a file name), "#" only at the start of a line; ">" only quotes at a line start, where
# "> " already is. "]" before "(", "[" or ":" ("[text](url)", "[text][ref]", "[ref]: url"); [1] and
# the masks stay plain.
_MD_SPECIAL = re.compile(r"[\\`*<|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|^\s*#")
_MD_LINK = re.compile(r"\](?=[(\[:])")
# URLs and e-mail addresses are left as written; "<https://…>" already is a Markdown link to that address.
_MD_VERBATIM = re.compile(
    r"<https?://[^\s<>]+>|(?:https?://|www\.)[^\s<>\"'，。；、（）]+|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
)


def _md_piece(text: str) -> str:
    escaped = _MD_SPECIAL.sub(lambda m: m[0][:-1] + "\\" + m[0][-1], text)
    return _MD_LINK.sub(r"\\]", escaped)


def _md(text: str) -> str:
    """Notice text as literal Markdown: nothing in a notice becomes emphasis, a heading or HTML; only
    the characters that would are escaped."""
    text = strip_control(text)
    out, pos = [], 0
    for m in _MD_VERBATIM.finditer(text):
        out += [_md_piece(text[pos : m.start()]), m[0]]
        pos = m.end()
    out.append(_md_piece(text[pos:]))
    return "".join(out)


def _md_quote(text: str) -> list[str]:
    """A block quote with each line of ``text`` its own paragraph, so the notice's lines stay lines."""
    out: list[str] = []
    for line in (x for x in text.split("\n") if x.strip()):
        out += [">", f"> {_md(line)}"] if out else [f"> {_md(line)}"]
    return out


def to_markdown(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """Markdown: a heading per entry; an answer's question and text, then each clause's text as a block
    quote and its reference as a list."""
    out = [f"# {HEADING}", ""]
    for n, g in enumerate(_prepare(excerpts, redact), 1):
        if g.answer is not None:
            out += [f"## [{n}] 问题：{_md(g.question or '')}", "", "回答：", "", *_md_quote(g.answer), ""]
        for j, e in enumerate(g.excerpts, 1):
            head = f"### 引文 [{j}] " if g.answer is not None else f"## [{n}] "
            out += [head + _md(e.clause["title"]), "", *_md_quote(e.clause["text"]), ""]
            out += [f"- {_md(line)}".replace("\n", " ") for line in reference_lines(e)]
            out.append("")
    return "\n".join(out).encode("utf-8")


CSV_COLUMNS = ("n", "citation", "question", "answer", "text", *(key for key, _ in FIELDS))
CSV_HEADER = {
    "n": "序号 n",
    "citation": "引文 citation",
    "question": "问题 question",
    "answer": "回答 answer",
    "text": "条款内容 text",
    "title": "文档 title",
    "issuer": "发布机构 issuer",
    "date": "发布日期 date",
    "section": "章节 section",
    "label": "条款 label",
    "validity": "时效 validity",
    "source": "来源文件 source",
    "original": "原文 original",
    "note": "备注 note",
}


def to_csv(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """UTF-8 with a BOM (so Excel reads Chinese), one row per clause, formula-safe cells; the clauses
    of an answer share its number ``n`` and carry the question and answer."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([CSV_HEADER[c] for c in CSV_COLUMNS])
    for n, g in enumerate(_prepare(excerpts, redact), 1):
        for j, e in enumerate(g.excerpts, 1):
            qa = [f"[{j}]", g.question or "", g.answer] if g.answer is not None else ["", "", ""]
            cells = [*qa, e.clause["text"], *excerpt_fields(e).values()]
            w.writerow([n, *(csv_safe(strip_control(x)) for x in cells)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _json_text(excerpts: Iterable[Excerpt]) -> str:
    return json.dumps(
        {
            "format": JSON_FORMAT,
            "version": JSON_VERSION,
            "excerpts": [
                {"n": n, **e.to_dict(), "fields": excerpt_fields(e)} for n, e in enumerate(excerpts, 1)
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def to_json(excerpts: Sequence[Excerpt], *, redact: bool = False) -> bytes:
    """The excerpts as JSON (the shape ``Basket.from_json`` reads back), ids and source offsets included."""
    items = list(excerpts)
    return _json_text([e.redacted() for e in items] if redact else items).encode("utf-8")


class Format(NamedTuple):
    export: Callable[..., bytes]
    mime: str
    ext: str


FORMATS: dict[str, Format] = {
    "docx": Format(
        to_docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"
    ),
    "md": Format(to_markdown, "text/markdown; charset=utf-8", "md"),
    "csv": Format(to_csv, "text/csv; charset=utf-8", "csv"),
    "json": Format(to_json, "application/json", "json"),
}


def export(excerpts: Sequence[Excerpt], fmt: str, *, redact: bool = False) -> tuple[bytes, str, str]:
    """``(data, mime, ext)`` for one of ``FORMATS``; ``UnknownFormatError`` names the allowed ones."""
    if fmt not in FORMATS:
        raise UnknownFormatError(f"export format {fmt!r} is not known; allowed: {', '.join(FORMATS)}")
    f = FORMATS[fmt]
    return f.export(excerpts, redact=redact), f.mime, f.ext
