"""Document metadata: from the corpus manifest, or guessed from the text itself.

A notice usually names its issuer and date in its signature ("深圳市商务局 / 2020 年 3 月
16 日") or in its title ("深圳市商务局关于印发…的通知"). Guessed fields are reported.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from policykb.errors import ConfigError
from policykb.ingest.charfreq import is_word
from policykb.ingest.record import METADATA_FIELDS, Metadata
from policykb.ingest.text import CJK_UNIFIED, convert_ahead, to_simplified

MANIFEST_NAME = "manifest.toml"
FIELDS = ("title", *METADATA_FIELDS)
ALLOWED_KEYS = {"doc_id", "file", "valid_from", "valid_to", *FIELDS}

ORG = re.compile(
    rf"([{CJK_UNIFIED}]{{2,16}}?(?:人民政府办公厅|人民政府|人民代表大会常务委员会|委员会|商务委|"
    r"监督管理总局|监督管理局|商务局|局|厅|部|委|办公室|人民法院|检察院|协会|联合会)|国务院(?:办公厅)?)"
)
CN_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
TITLE_WORDS = (
    "通知",
    "办法",
    "规定",
    "方案",
    "规范",
    "规则",
    "意见",
    "条例",
    "法",
    "措施",
    "指引",
    "公告",
    "决定",
    "细则",
    "批复",
    "解释",
)
DOC_TYPES = [
    ("批复", "judicial_reply"),
    ("规定（", "judicial_interpretation"),
    ("通知", "notice"),
    ("意见", "opinions"),
    ("实施方案", "event_plan"),
    ("方案", "plan"),
    ("措施", "measures"),
    ("条例", "regulation"),
    ("办法", "regulation"),
    ("规定", "regulation"),
    ("规范", "platform_rule"),
    ("规则", "platform_rule"),
    ("法", "law"),
]
PLATFORMS = ("抖音", "快手", "淘宝", "天猫", "京东", "拼多多", "腾讯微视", "微视", "视频号", "小红书", "美团")
REGION = re.compile(
    rf"^((?:[{CJK_UNIFIED}]{{2,4}}?(?:省|自治区))?[{CJK_UNIFIED}]{{2,4}}?(?:市|自治州|州|县|区))"
)
# The mainland's provincial-level divisions (GB/T 2260) by their full names: a region named by a provincial
# issuer (浙江省人民代表大会常务委员会, 浙江省市场监督管理局) or at the head of a title (上海市促进电子商务发展规定).
PROVINCE = re.compile(
    "^((?:北京|天津|上海|重庆)市|(?:河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|"
    "贵州|云南|陕西|甘肃|青海)省|(?:内蒙古|广西壮族|西藏|宁夏回族|新疆维吾尔)自治区)"
)
# Institutions and a currency only Taiwan's legal system has (Simplified, as the text is read): a document
# naming two of them is Taiwanese law, which the mainland's national laws do not govern, nor it the mainland.
TAIWAN_MARKERS = ("新台币", "行政院", "立法院", "司法院", "考试院", "监察院", "中华民国", "数位发展部")
TAIWAN = "台湾"
# Taiwan's municipalities, cities and counties: a Taiwanese act whose issuer is one keeps it (台湾台北市); a
# mainland issuer (福建省, 厦门市) wins over a cross-strait text's mention of 新台币 and 行政院.
TAIWAN_PLACES = (
    "台北", "新北", "桃园", "台中", "台南", "高雄", "基隆", "新竹", "嘉义", "苗栗", "彰化", "南投", "云林", "屏东",
    "宜兰", "花莲", "台东", "澎湖", "金门", "连江",
)  # fmt: skip
# A header field naming the document ("法規名稱：消費者保護法"): the value is the title.
TITLE_FIELD = re.compile(
    rf"^(?:[{CJK_UNIFIED}]{{0,4}}(?:名称|标题)[:：]|【[{CJK_UNIFIED}]{{0,4}}(?:名称|标题)】[:：]?)\s*(?=\S)"
)
COMPACT_DATE = re.compile(r"日期[:：]\s*(\d{4})(\d{2})(\d{2})(?!\d)")  # 修正日期：20150617
# What follows an effective date ("本法自2019年1月1日起施行"): not the date the document was made.
EFFECTIVE = re.compile(r"^起?(?:施行|实施|生效)")
EFFECTIVE_FIELD = re.compile(r"(?:施行|实施|生效)(?:日期|时间)")
# What a dated header line records ("2018年8月31日 第十三届全国人民代表大会常务委员会第五次会议通过").
DATING_ACT = re.compile(r"通过|公布|批准|修正|修订|发布|印发")
TERM = re.compile(r"第[0-9一二三四五六七八九十百零〇]+届")


@dataclass(frozen=True)
class ManifestEntry:
    doc_id: str
    file: str
    values: dict[str, str]


def load_manifest(folder: Path) -> dict[str, ManifestEntry]:
    """Entries of `folder/manifest.toml` keyed by file name ({} when there is none)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    entries = {}
    for i, raw in enumerate(data.get("document", [])):
        unknown = set(raw) - ALLOWED_KEYS
        if unknown or "doc_id" not in raw or "file" not in raw:
            raise ConfigError(
                f"{path}: document #{i + 1}: needs doc_id and file; unknown keys "
                f"{sorted(unknown)}; allowed: {sorted(ALLOWED_KEYS)}"
            )
        values = {k: str(v) for k, v in raw.items() if k not in ("doc_id", "file")}
        entries[raw["file"]] = ManifestEntry(raw["doc_id"], raw["file"], values)
    return entries


def doc_id_for(path: Path) -> str:
    """A readable id from the file name: letters, digits, CJK and '-' only."""
    stem = unicodedata.normalize("NFKC", path.stem)
    slug = re.sub(rf"[^0-9A-Za-z{CJK_UNIFIED}]+", "-", stem).strip("-").lower()
    return slug or "document"


def guess(
    text_lines: list[str], title_lines: list[str], fallback_title: str
) -> tuple[dict[str, str], list[str]]:
    """Metadata guessed from a document's (cleaned, original-script) text."""
    convert_ahead(text_lines)
    simple = [to_simplified(t).replace(" ", "") for t in text_lines if t.strip()]
    heads = [TITLE_FIELD.sub("", to_simplified(t).replace(" ", "")) for t in title_lines if t.strip()]
    found: dict[str, str] = {}
    at = next((i for i, h in enumerate(heads) if any(w in h for w in TITLE_WORDS)), None)
    title = heads[at] if at is not None else heads[0] if heads else fallback_title
    if at and _title_start(heads[at - 1]) and "关于" not in title:
        title = heads[at - 1] + title  # "国务院关于促进综合保税区" / "高水平开放高质量发展的若干意见"
    found["title"] = title
    if issuer := _issuer(simple, title):
        found["issuer"] = issuer
    region = _region(issuer) if issuer else None
    if region is None and (head := PROVINCE.match(title)):
        region = head.group(1)  # 上海市促进电子商务发展规定
    if _taiwanese(simple) and (region is None or region.startswith(TAIWAN_PLACES)):
        region = TAIWAN + (region or "")  # a Taiwanese act; 台湾台北市 when a city's office issued it
    if region:
        found["region"] = region
    if date := _date(simple):
        found["date"] = date
    if platform := _platform(simple):
        found["platform"] = platform
    found["doc_type"] = next((t for w, t in DOC_TYPES if w in title), "document")
    return found, sorted(found)


def _title_start(head: str) -> bool:
    """A title line broken before its end: "X关于Y" with no title word and no punctuation."""
    return (
        "关于" in head and not any(w in head for w in TITLE_WORDS) and not re.search(r"[，。；：,;:]", head)
    )


def _issuer(lines: list[str], title: str) -> str | None:
    # A short line right before a date line is the signature; else the title's "X关于…".
    for k in range(len(lines) - 1, 0, -1):
        if CN_DATE.fullmatch(lines[k]) and len(lines[k - 1]) <= 20 and ORG.fullmatch(lines[k - 1]):
            return lines[k - 1]
    if "关于" in title and (m := ORG.fullmatch(title.split("关于")[0])):
        return m.group(1)
    if (m := ORG.match(title)) and len(m.group(1)) < len(title):
        return m.group(1)
    # The body named in the line that dates the document ("… 国家市场监督管理总局令第56号公布").
    for line, m, effective in _dated_lines(lines)[:1]:
        rest = line[m.end() :]
        if not effective and DATING_ACT.search(rest) and (org := ORG.search(TERM.sub("", rest))):
            return org.group(1)
    return None


def _region(issuer: str) -> str | None:
    """The place an issuer governs: its city or county (with the province before it), else its province."""
    if m := REGION.match(issuer):
        end = m.end(1)
        # "国家市场监督管理总局", "浙江省市场监督管理局": the 市 belongs to 市场, not to a place name
        if end == len(issuer) or not is_word(issuer[end - 1 : end + 1]):
            return m.group(1)
    return m.group(1) if (m := PROVINCE.match(issuer)) else None


def _taiwanese(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return sum(marker in text for marker in TAIWAN_MARKERS) >= 2


def _dated_lines(lines: list[str]) -> list[tuple[str, re.Match[str], bool]]:
    """Lines that date the document, last first: a date line, a line that starts with a date (a
    header "2018年8月31日 …通过"), or a short line holding one. Effective dates come after the rest."""
    found: list[tuple[str, re.Match[str], bool]] = []
    later: list[tuple[str, re.Match[str], bool]] = []
    for line in reversed(lines):
        if line[:1] in "（(" and line[-1:] in "）)":
            line = line[1:]  # a dating note under the title: "（2021年3月15日…令第37号公布 自…起施行）"
        m = CN_DATE.match(line) or (CN_DATE.search(line) if len(line) <= 40 else None)
        if m:
            # "…自2019年1月1日起施行", or a field that says it holds one: "【施行日期】2021年5月1日"
            effective = bool(EFFECTIVE.match(line[m.end() :]) or EFFECTIVE_FIELD.search(line[: m.start()]))
            (later if effective else found).append((line, m, effective))
    return found + later


def _date(lines: list[str]) -> str | None:
    for _, m, _ in _dated_lines(lines)[:1]:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    for pattern in (COMPACT_DATE, ISO_DATE):
        for line in lines:
            if hit := pattern.search(line):
                return f"{hit.group(1)}-{hit.group(2)}-{hit.group(3)}"
    return None


def _platform(lines: list[str]) -> str | None:
    text = "\n".join(lines)
    counts = Counter({name: text.count(name) for name in PLATFORMS})
    for name in PLATFORMS:  # 微视 inside 腾讯微视 is the same mention, counted once, as the longer name
        counts[name] -= sum(counts[longer] for longer in PLATFORMS if name in longer and name != longer)
    name, n = counts.most_common(1)[0]
    return name if n >= 3 else None


def metadata_from(values: dict[str, str]) -> Metadata:
    return Metadata(**{name: values.get(name) for name in METADATA_FIELDS})
