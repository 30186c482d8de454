"""Validity periods and event dates, read from a notice's own words.

A time-bound notice says how long it applies in one of three ways, tried in this order:

1. **Its validity** ("本办法有效期至2022年12月31日", "有效期为2020年3月1日至2022年2月28日",
   "自发布之日起施行，有效期3年"). The validity word (有效期, 执行期限, 实施期限, 试行期) must open its
   comma clause, possibly after "本办法"/"本通知" or a heading number: "注册商标的有效期为十年" is about
   trademarks, not about the law. A start not stated with it comes from the effective statement (2.).
   A relative term ends the day before the anniversary: 2021-01-01 + 3 years → 2023-12-31.
2. **An event period**: a labelled one ("活动时间：10月23日-11月14日", "举办时间", "活动期间", "促销时间")
   or, failing that, a range named as the time something is held ("今年3月至6月期间",
   "定于3月1日至6月30日举办", "即日起至6月30日"). An unlabelled range whose comma clause speaks of
   registration or submission (报名, 申报, 截止, 提交, …) is a deadline, not the event.
3. **An effective date** ("本法自2019年1月1日起施行", "本办法自印发之日起施行", a header "2022年3月1日 施行"
   or "【施行日期】2022年3月1日"): ``valid_from`` only. The statement must be about this document
   (nothing before it in its comma clause but an article number or "本法", "本办法", …, or a "…公布"):
   "《电子商务法》自2019年1月1日起施行" is about another one.

Within each kind the first statement in reading order wins: a notice states its own period before its
attachments and sub-events do. A date without a year takes the document's own year, the single year in
its title ("2021年清远市…直播节"), else the publication year ("今年" is always the publication year); with
neither it is not read, and a period so dated that would be over before the notice was published is not
read either (next year's, or a past one?). A month without a day starts on the 1st and ends on the
month's last day; a range whose end comes before its start runs into the next year. "发布/印发/公布之日"
and "即日" are the publication date, so unread when it is unknown. Anything unsure gives ``None``: a wrong
date is worse than none.

>>> v = extract_validity(["活动时间：10月23日-11月14日，共包含三大专场直播活动"], year=2021)
>>> v.valid_from, v.valid_to, v.from_evidence.rule
('2021-10-23', '2021-11-14', 'event')
>>> extract_validity(["本通知自发布之日起施行，有效期3年。"], published="2021-01-01").valid_to
'2023-12-31'
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from policykb.ingest.numbering import cn_to_int

# Length-preserving, so offsets found in the folded text are offsets in the text.
FOLD = str.maketrans("０１２３４５６７８９：～－（），；", "0123456789:~-(),;")
_FOLD_PAIRS = tuple((chr(a), chr(b)) for a, b in FOLD.items())


def fold(text: str) -> str:
    """``text.translate(FOLD)``: one ``replace`` per character present is ~3× faster than ``translate``
    with a table on non-ASCII text, and every paragraph of a notice is folded."""
    for wide, narrow in _FOLD_PAIRS:
        if wide in text:
            text = text.replace(wide, narrow)
    return text


_CN_DIGIT = "〇零一二三四五六七八九"
_CN_MONTH = r"十[一二]?|[一二三四五六七八九]"
_CN_DAY = r"[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九]"


def _date_re(p: str, *, day_only: bool = False) -> str:
    """A date with named groups prefixed ``p``: optional year (or 今年), month, optional day; with
    ``day_only`` the month is optional too (the end of "3月1日至30日")."""
    year = rf"(?:(?P<{p}y>\d{{4}}|[{_CN_DIGIT}]{{4}})\s*年|(?P<{p}this>今年|本年))"
    month = rf"(?P<{p}m>\d{{1,2}}|{_CN_MONTH})\s*月份?"
    day = rf"(?P<{p}d>\d{{1,2}}|{_CN_DAY})\s*[日号]"
    if day_only:
        return rf"(?<!\d)(?:{year}\s*)?(?:{month}\s*)?(?:{day})?"
    return rf"(?<!\d)(?:{year}\s*)?{month}\s*(?:{day})?"


SEP = r"\s*(?:起?(?:至|到)|[-—–―~〜]{1,2})\s*"
DATE = re.compile(_date_re("s"))
RANGE_SEP = re.compile(SEP)
# What may stand between a date and the dash: "（星期六）", "10:00".
ANNEX = r"(?:\s*\([^()]{1,8}\)|\s*(?:上午|下午|晚上)?\s*\d{1,2}:\d{2}(?::\d{2})?){0,2}"
RANGE = re.compile(_date_re("s") + ANNEX + SEP + _date_re("e", day_only=True) + ANNEX + r"止?")
# "今年3至6月", "2020年3-6月": months only, the first without its 月.
MONTHS = re.compile(
    rf"(?<!\d)(?:(?P<sy>\d{{4}})\s*年|(?P<sthis>今年|本年))?\s*(?P<sm>\d{{1,2}}|{_CN_MONTH})"
    rf"{SEP}(?P<em>\d{{1,2}}|{_CN_MONTH})\s*月份?"
)
TODAY = re.compile(r"(?:自|从)?即日起?\s*(?:至|到)\s*")
YEAR_END = re.compile(rf"(?P<sy>\d{{4}}|[{_CN_DIGIT}]{{4}})\s*年\s*(?:底|末)")

SELF = (
    r"本(?:[\u4e00-\u9fff]{0,8}?(?:法|条例|办法|规定|通知|意见|方案|措施|细则|规则|规范|决定|指引|公告|"
    r"政策|文件|标准|制度|指南|计划))"
)
MARKER = (
    r"(?:第[0-9一二三四五六七八九十百零〇]+条(?:之[一二三四五六七八九十]+)?|[一二三四五六七八九十]+[、.]|"
    r"[(（][一二三四五六七八九十0-9]+[)）]|\d+(?:\.\d+)*[.、]?)"
)
# Before an effective or validity statement about this document: nothing but a number and "本办法".
OWN_PREFIX = re.compile(rf"\s*(?:{MARKER})?\s*(?:{SELF}(?:的)?)?\s*")
PUBLISHED_PREFIX = re.compile(r"(?:公布|发布|印发|通过)\s*$")

VALIDITY_WORD = re.compile(r"(?:有效期(?:限)?|执行期限|实施期限|试行期(?:限)?)(?!间)")
TERM = re.compile(r"(?P<n>\d{1,2}|[一二两三四五六七八九十]{1,3})\s*(?P<unit>年|个月)")
VALIDITY_LEAD = re.compile(r"\s*:?\s*(?:为|是)?\s*(?:自|从)?\s*")
UNTIL = re.compile(r"(?:至|到|截至|截止(?:到|至)?)\s*")
ACT = r"(?:正式)?(?:施行|实施|执行|生效|试行)"
NOT_OWN_ACT = r"(?!的|以来|以前|之前|前|以后|之后|后)"
EFFECTIVE_DATE = re.compile(rf"(?:自|从|于)\s*(?P<when>{_date_re('s')})\s*起?\s*{ACT}{NOT_OWN_ACT}")
EFFECTIVE_ON_PUBLICATION = re.compile(
    rf"自\s*(?:(?:发布|印发|公布|颁布|下发|发文|签发)\s*(?:之)?日|即日)\s*起?\s*{ACT}"
    rf"{NOT_OWN_ACT}"
)
EFFECTIVE_HEADER = re.compile(rf"(?P<when>{_date_re('s')})\s*起?\s*(?:施行|实施|生效){NOT_OWN_ACT}")
EFFECTIVE_FIELD = re.compile(rf"(?:施行|实施|生效)日期\s*】?\s*:?\s*(?P<when>{_date_re('s')})")

EVENT_LABEL = re.compile(
    r"(?<!报名)(?<!申报)(?:活动|举办|举行|促销|展会|购物节|直播节)(?:时间|日期|期间|时段)\s*:?\s*"
    r"(?:为|是)?\s*(?:自|从|于)?\s*"
)
HELD = re.compile(r"\s*(?:期间|之间)|\s*(?:在|于)?\s*(?:举办|举行|开展|组织开展|集中开展)")
DEADLINE_WORDS = re.compile(r"报名|申报|截止|截至|提交|报送|申请|征集|受理|缴纳|评审|评选|公示|登记|备案")
# A heading that only names the period ("一、活动时间"): the next paragraph states it.
LABEL_HEADING = re.compile(
    rf"\s*(?:{MARKER})?\s*(?P<label>活动时间|活动日期|活动期间|举办时间|有效期(?:限)?)\s*:?\s*"
)
SENTENCE = re.compile(r"[^。！？；;!?\n]+")
# A character every statement read below holds: a validity word (…期…), an event label (…时间, …期间), a
# date (…月), 即日, or 自…之日 (``_Scan``'s methods check the same characters before their patterns).
_MAY_STATE_A_DATE = re.compile("[期时月即自]")


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where a date was read: ``sentence`` is ``paragraphs[paragraph][start:end]``."""

    paragraph: int
    start: int
    end: int
    sentence: str
    rule: str  # "validity" | "event" | "effective"
    phrase: str  # the comma clause of the sentence that states the date ("定于在今年3月至6月期间举办…")


@dataclass(frozen=True, slots=True)
class Validity:
    valid_from: str | None = None  # ISO yyyy-mm-dd
    valid_to: str | None = None
    from_evidence: Evidence | None = None
    to_evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class DateSource:
    """A date ingest read from the text, for the report: where it came from."""

    field: str  # "valid_from" | "valid_to"
    value: str  # ISO yyyy-mm-dd
    rule: str  # "validity" | "event" | "effective"
    sentence: str
    phrase: str
    span: tuple[int, int]  # the sentence's characters in the decoded source file


@dataclass(frozen=True, slots=True)
class _Years:
    default: int | None  # for a date written without a year: the title's, else the publication year
    this: int | None  # "今年": the publication year


@dataclass(frozen=True, slots=True)
class _Found:
    start: date | None
    end: date | None
    evidence: Evidence
    term: tuple[int, str] | None = None  # "有效期3年" without its start: (3, "年")


def extract_validity(
    paragraphs: Sequence[str],
    *,
    published: str | None = None,
    year: int | None = None,
    title: str | None = None,
) -> Validity:
    """The validity period a notice states, from its paragraphs (clean Simplified text, in reading order).

    ``published`` is the publication date (ISO, or a partial "2020-12"); ``year`` the year to give dates
    written without one (default: the single year named in ``title``, else the publication year).
    """
    pub = _iso_date(published)
    pub_year = pub.year if pub else _leading_year(published)
    default = year if year is not None else _title_year(title) or pub_year
    years = _Years(default, pub_year or default)
    guessing = year is None and pub is not None  # an inferred year is checked against the publication date
    validity: list[_Found] = []
    labelled: list[_Found] = []
    held: list[_Found] = []
    effective: list[_Found] = []
    carried = ""
    for i, para in enumerate(paragraphs):
        text = fold(para)
        for k, m in enumerate(SENTENCE.finditer(text)):
            s = m.group()
            label = (
                carried if k == 0 else ""
            )  # "一、活动时间" / "2021年3月1日至6月30日": read as one statement
            if label:
                s = label + ":" + s
            if not _MAY_STATE_A_DATE.search(s):
                continue  # most sentences: building a _Scan and trying every pattern on them was ~5 % of ingest
            ev = _Scan(
                (i, m.start(), m.end()), para[m.start() : m.end()], years, pub, label, guessing=guessing
            )
            validity += ev.validity(s)
            labelled += ev.labelled(s)
            held += ev.held(s)
            effective += ev.effective(s)
        heading = LABEL_HEADING.fullmatch(text)
        carried = heading.group("label") if heading else ""
    return _choose(validity, labelled + held, effective)


def _choose(validity: list[_Found], events: list[_Found], effective: list[_Found]) -> Validity:
    if validity:
        v = validity[0]
        start, start_ev = v.start, v.evidence
        if start is None and effective:
            start, start_ev = effective[0].start, effective[0].evidence
        end = v.end
        if v.term is not None:
            end = _add_term(start, *v.term) if start else None
        if start is None and end is None:
            return Validity()
        return Validity(_iso(start), _iso(end), start_ev if start else None, v.evidence if end else None)
    if events:
        e = events[0]
        return Validity(
            _iso(e.start), _iso(e.end), e.evidence if e.start else None, e.evidence if e.end else None
        )
    if effective:
        e = effective[0]
        return Validity(_iso(e.start), None, e.evidence, None)
    return Validity()


class _Scan:
    """One sentence: the statements of each kind it makes."""

    def __init__(
        self,
        where: tuple[int, int, int],
        sentence: str,
        years: _Years,
        pub: date | None,
        label: str = "",
        *,
        guessing: bool = False,
    ):
        self.where, self.sentence, self.years, self.pub = where, sentence, years, pub
        self.shift = len(label) + 1 if label else 0
        self.guessing = guessing

    def _ended_before_publication(self, m: re.Match[str], end: date | None) -> bool:
        """A period given the publication year that would be over before the notice came out: is it
        next year's ("1月1日至2月28日" in a December notice) or a past one? Unsure."""
        written = any(m.groupdict().get(g) for g in ("sy", "sthis", "ey"))
        return self.guessing and not written and end is not None and self.pub is not None and end < self.pub

    def _evidence(self, rule: str, at: int) -> Evidence:
        paragraph, start, end = self.where
        phrase = _comma_clause(self.sentence, max(at - self.shift, 0), folded=fold(self.sentence))
        return Evidence(paragraph, start, end, self.sentence.strip(), rule, phrase.strip())

    def validity(self, s: str) -> list[_Found]:
        out = []
        for m in VALIDITY_WORD.finditer(s):
            if not OWN_PREFIX.fullmatch(_clause_prefix(s, m.start())):
                continue
            at = _skip(VALIDITY_LEAD, s, m.end())
            if (found := self._period(s, at, until=True)) is not None:
                out.append(_Found(found[0], found[1], self._evidence("validity", m.start())))
            elif (t := TERM.match(s, at)) and (n := cn_to_int(t.group("n"))):
                own = self.effective(s)
                start = own[0].start if own else None
                out.append(_Found(start, None, self._evidence("validity", m.start()), (n, t.group("unit"))))
        return out

    def labelled(self, s: str) -> list[_Found]:
        out = []
        # Every label ends in 时间, 日期, 期间 or 时段; the pattern opens with look-behinds, so a regex alone
        # tries it at every position of every sentence.
        for m in EVENT_LABEL.finditer(s) if "时" in s or "期" in s else ():
            if (found := self._period(s, m.end(), single=True)) is not None:
                out.append(_Found(found[0], found[1], self._evidence("event", m.start())))
        return out

    def held(self, s: str) -> list[_Found]:
        out: list[tuple[int, _Found]] = []
        # RANGE and MONTHS need a 月, TODAY a 即日; the patterns open with optional parts, so a regex tries
        # every position of every sentence: skipping the ones that cannot match is most of ingest's dates.
        patterns = ((RANGE, MONTHS) if "月" in s else ()) + ((TODAY,) if "即日" in s else ())
        for pattern in patterns:
            for m in pattern.finditer(s):
                found = self._period(s, m.start())
                if found is None or (pattern is not TODAY and not HELD.match(s, found[2])):
                    continue
                if DEADLINE_WORDS.search(_comma_clause(s, m.start())):
                    continue  # a registration window or a deadline, not the event
                out.append((m.start(), _Found(found[0], found[1], self._evidence("event", m.start()))))
        return [f for _, f in sorted(out, key=lambda x: x[0])]

    def effective(self, s: str) -> list[_Found]:
        out: list[tuple[int, _Found]] = []
        for pattern in (EFFECTIVE_DATE, EFFECTIVE_HEADER, EFFECTIVE_FIELD) if "月" in s else ():  # a date
            for m in pattern.finditer(s):
                if pattern is not EFFECTIVE_FIELD and not _own(s, m.start()):
                    continue
                if (when := _single(m, "s", self.years)) is not None:
                    out.append((m.start(), _Found(when, None, self._evidence("effective", m.start()))))
        for m in EFFECTIVE_ON_PUBLICATION.finditer(s) if "自" in s else ():
            if _own(s, m.start()) and self.pub is not None:
                out.append((m.start(), _Found(self.pub, None, self._evidence("effective", m.start()))))
        return [f for _, f in sorted(out, key=lambda x: x[0])]

    def _period(
        self, s: str, pos: int, *, until: bool = False, single: bool = False
    ) -> tuple[date | None, date | None, int] | None:
        """The period stated at ``pos``: (start, end, where its statement ends), or None."""
        if m := TODAY.match(s, pos):
            d = DATE.match(s, m.end())
            when = _single(d, "s", self.years, last=True)
            if d is None or when is None or self._ended_before_publication(d, when):
                return None
            return self.pub, when, d.end()
        for pattern in (RANGE, MONTHS):
            if (m := pattern.match(s, pos)) and (span := _range(m, self.years)) is not None:
                return None if self._ended_before_publication(m, span[1]) else (span[0], span[1], m.end())
        if until and (m := UNTIL.match(s, pos)):
            if (y := YEAR_END.match(s, m.end())) and (n := cn_to_int(y.group("sy"))):
                return None, date(n, 12, 31), y.end()
            d = DATE.match(s, m.end())
            if d and (when := _single(d, "s", self.years, last=True)):
                if s.startswith(("前", "以前", "之前"), d.end()) or self._ended_before_publication(d, when):
                    return None  # "有效期至…前": is that day in or out? Unsure.
                return None, when, d.end()
        if single and (m := DATE.match(s, pos)) and (when := _single(m, "s", self.years)):
            if DATE.search(s, m.end(), _clause_end(s, m.end())):
                return None  # another date follows: a range not read as one ("（周六）…至…"), not one day
            if RANGE_SEP.match(s, m.end()) or self._ended_before_publication(m, when):
                return None  # a range that is not a period ("2022年3月至2021年6月"): not its first day either
            return when, _single(m, "s", self.years, last=True), m.end()
        return None


def _skip(pattern: re.Pattern[str], s: str, pos: int) -> int:
    m = pattern.match(s, pos)
    return m.end() if m else pos


def _comma_clause(s: str, at: int, *, folded: str | None = None) -> str:
    """The part of ``s`` between the commas around ``at`` (found in ``folded``, where "，" is ",")."""
    f = s if folded is None else folded
    start = f.rfind(",", 0, at) + 1
    end = f.find(",", at)
    return s[start : end if end >= 0 else len(s)]


def _clause_end(s: str, at: int) -> int:
    end = s.find(",", at)
    return end if end >= 0 else len(s)


def _clause_prefix(s: str, at: int) -> str:
    return s[s.rfind(",", 0, at) + 1 : at]


def _own(s: str, at: int) -> bool:
    """Is the statement at ``at`` about this document? (See the module docstring, 3.)"""
    prefix = _clause_prefix(s, at)
    return bool(
        OWN_PREFIX.fullmatch(prefix)
        or PUBLISHED_PREFIX.search(prefix)
        or re.fullmatch(r"\s*[【\[(]?\s*", prefix)
    )


def _number(text: str | None) -> int | None:
    return cn_to_int(text) if text else None


def _year_of(m: re.Match[str], p: str, years: _Years) -> int | None:
    if m.group(f"{p}y"):
        return _number(m.group(f"{p}y"))
    return years.this if m.groupdict().get(f"{p}this") else years.default


def _single(m: re.Match[str] | None, p: str, years: _Years, *, last: bool = False) -> date | None:
    """One date; a month without a day is its first day (its last with ``last``)."""
    if m is None or not m.group(f"{p}m"):
        return None
    y, mo = _year_of(m, p, years), _number(m.group(f"{p}m"))
    d = _number(m.groupdict().get(f"{p}d"))
    if y is None or mo is None or not 1 <= mo <= 12:
        return None
    if d is None:
        d = calendar.monthrange(y, mo)[1] if last else 1
    return _make(y, mo, d)


def _range(m: re.Match[str], years: _Years) -> tuple[date, date] | None:
    start = _single(m, "s", years)
    if start is None:
        return None
    groups = m.groupdict()
    ey_text, em_text, ed_text = groups.get("ey"), groups.get("em"), groups.get("ed")
    if not em_text and not ed_text:
        return None
    ey = _number(ey_text) if ey_text else start.year
    em = _number(em_text) if em_text else start.month
    if ey is None or em is None or not 1 <= em <= 12:
        return None
    ed = _number(ed_text) if ed_text else calendar.monthrange(ey, em)[1]
    if ed is None or (end := _make(ey, em, ed)) is None:
        return None
    if end < start:
        if ey_text:
            return None  # "2022年3月至2021年6月": not a period
        end = _make(ey + 1, em, ed)
        if end is None:
            return None
    return start, end


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _add_term(start: date, n: int, unit: str) -> date:
    """The last day of a term of ``n`` years or months beginning on ``start``."""
    months = start.month - 1 + (n * 12 if unit == "年" else n)
    y, m = start.year + months // 12, months % 12 + 1
    d = min(start.day, calendar.monthrange(y, m)[1])
    return date(y, m, d) - timedelta(days=1)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value and len(value) == 10 else None
    except ValueError:
        return None


def _leading_year(value: str | None) -> int | None:
    """The year of a partial date ("2020-12", "2020")."""
    m = re.match(r"((?:19|20)\d{2})(?!\d)", value or "")
    return int(m.group(1)) if m else None


def _title_year(title: str | None) -> int | None:
    years = set(re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", (title or "").translate(FOLD)))
    return int(years.pop()) if len(years) == 1 else None
