"""Validity periods and event dates read from a notice's own words (``ingest/validity.py``)."""

from __future__ import annotations

import doctest
import re
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, DATA, EXPECTED, LAWS, SEEDS, ingest_law, ingest_seed

from policykb.ingest import validity
from policykb.ingest.metadata import MANIFEST_NAME, ManifestEntry, load_manifest
from policykb.ingest.pipeline import ingest_file, ingest_text
from policykb.ingest.validity import extract_validity

EXTERNAL2 = DATA / "external2"


def period(
    *paragraphs: str, published: str | None = None, year: int | None = None, title: str | None = None
) -> tuple[str | None, str | None]:
    v = extract_validity(list(paragraphs), published=published, year=year, title=title)
    return v.valid_from, v.valid_to


def test_module_doctests():
    assert doctest.testmod(validity).failed == 0


# --- its own validity ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, published, expected",
    [
        ("本办法自2021年1月1日起施行，有效期至2022年12月31日。", None, ("2021-01-01", "2022-12-31")),
        ("本通知有效期至2022年12月31日。", None, (None, "2022-12-31")),
        ("本措施有效期为2020年3月1日至2022年2月28日。", None, ("2020-03-01", "2022-02-28")),
        ("有效期：2020年3月1日—2022年2月28日", None, ("2020-03-01", "2022-02-28")),
        ("本办法自发布之日起施行，有效期3年。", "2021-01-01", ("2021-01-01", "2023-12-31")),
        ("本办法自发布之日起施行，有效期3年。", "2021-06-15", ("2021-06-15", "2024-06-14")),
        ("本通知自印发之日起实施，有效期两年。", "2020-02-29", ("2020-02-29", "2022-02-27")),
        ("本措施自2020年7月1日起实施，有效期6个月。", None, ("2020-07-01", "2020-12-31")),
        ("本政策有效期至2025年底。", None, (None, "2025-12-31")),
        ("本通知自即日起施行，有效期自即日起至2020年12月31日。", "2020-04-10", ("2020-04-10", "2020-12-31")),
        ("本办法自发布之日起施行，有效期3年。", None, (None, None)),  # no publication date: no start, no end
    ],
)
def test_validity_statements(text, published, expected):
    assert period(text, published=published) == expected


def test_a_term_counts_from_the_documents_effective_date_in_another_sentence():
    assert period("第二十条 本办法自2021年3月1日起施行。", "本办法有效期5年。") == (
        "2021-03-01",
        "2026-02-28",
    )


@pytest.mark.parametrize(
    "text",
    [
        "注册商标的有效期为十年，自核准注册之日起计算。",  # a trademark's term, not the law's
        "行政许可有效期已届满的，应当屏蔽、断开链接。",
        "本规定施行前取得的许可证在有效期至2020年12月31日前继续有效。",
        "电子签名认证证书有效期至2025年12月31日。",
        "有效期至2022年12月31日前。",  # in force until that day, or not including it? unsure
    ],
)
def test_validity_of_something_else_is_not_the_notices(text):
    assert period(text, published="2020-01-01") == (None, None)


# --- effective dates: valid_from only -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, published, expected",
    [
        ("第八十九条 本法自2019年1月1日起施行。", None, "2019-01-01"),
        ("本办法自2021年1月1日起施行。", None, "2021-01-01"),
        ("自2021年1月1日起施行。", None, "2021-01-01"),
        ("本办法自印发之日起施行。", "2020-12-04", "2020-12-04"),
        ("本规则自发布之日起实施。", "2023-08-27", "2023-08-27"),
        ("本法自公布日施行。", "2015-06-17", "2015-06-17"),
        ("本通知自即日起施行。", "2020-04-10", "2020-04-10"),
        ("本办法自二〇二一年三月一日起施行。", None, "2021-03-01"),
        ("本办法自２０２１年３月１日起施行。", None, "2021-03-01"),
        ("本管理办法自 2021 年 3 月 1 日起执行。", None, "2021-03-01"),
        ("2022年3月1日 施行", None, "2022-03-01"),
        ("【施行日期】2024年7月1日", None, "2024-07-01"),
        ("（2023年2月25日国家市场监督管理总局令第72号公布 自2023年5月1日起施行）", None, "2023-05-01"),
        ("《实施条例》已经国务院常务会议通过，现予公布，自2024年7月1日起施行。", None, "2024-07-01"),
    ],
)
def test_effective_date_gives_valid_from_only(text, published, expected):
    assert period(text, published=published) == (expected, None)


@pytest.mark.parametrize(
    "text, published",
    [
        ("本办法自印发之日起施行。", None),  # when was it issued? not known
        ("《电子商务法》自2019年1月1日起施行。", None),  # another document
        ("该办法自2021年1月1日起施行，对平台经营者提出了新要求。", None),
        ("根据自2019年1月1日起施行的《电子商务法》，平台应当公示。", None),
        ("电子商务法自2019年1月1日起施行以来，平台经营者责任更加明确。", None),
        ("本法施行前已经注册的商标继续有效。", "2019-04-23"),
        ("各有关单位自收到本通知之日起执行。", "2020-01-01"),
    ],
)
def test_effective_statements_about_something_else(text, published):
    assert period(text, published=published) == (None, None)


# --- event periods ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, year, published, expected",
    [
        (
            "活动时间：10月23日-11月14日，共包含三大专场直播活动+一场培训",
            2021,
            None,
            ("2021-10-23", "2021-11-14"),
        ),
        (
            "深圳市商务局定于在今年3月至6月期间举办“2020深圳线上购物节”",
            None,
            "2020-03-16",
            ("2020-03-01", "2020-06-30"),
        ),
        ("我局定于3月1日至6月30日举办线上购物节。", None, "2020-02-20", ("2020-03-01", "2020-06-30")),
        ("活动时间为2020年3月1日至6月30日。", None, None, ("2020-03-01", "2020-06-30")),
        ("活动期间：2021年11月1日至11月11日", None, None, ("2021-11-01", "2021-11-11")),
        ("举办时间：3月1日至15日", 2021, None, ("2021-03-01", "2021-03-15")),
        ("活动时间：12月20日至1月5日", 2021, None, ("2021-12-20", "2022-01-05")),
        ("活动时间：2024年1月至2月", None, None, ("2024-01-01", "2024-02-29")),
        ("今年3至6月期间，全市开展直播促消费活动。", None, "2020-03-16", ("2020-03-01", "2020-06-30")),
        ("活动时间：２０２１年３月１日至３月３１日", None, None, ("2021-03-01", "2021-03-31")),
        ("活动时间：二〇二一年三月一日至三月三十一日", None, None, ("2021-03-01", "2021-03-31")),
        ("活动时间：10月23日", 2021, None, ("2021-10-23", "2021-10-23")),
        ("活动自即日起至2020年6月30日。", None, "2020-05-01", ("2020-05-01", "2020-06-30")),
        ("活动自即日起至6月30日。", None, None, (None, None)),  # no year and no publication date
        ("活动时间：2021年10月23日（星期六）至11月14日（星期日）", None, None, ("2021-10-23", "2021-11-14")),
        ("活动时间：2021年3月1日10:00至3月31日24:00", None, None, ("2021-03-01", "2021-03-31")),
        ("活动时间：10月23日上午10:00-10:25", 2021, None, ("2021-10-23", "2021-10-23")),
        ("即日起至2020年6月30日，参与商家可享受流量扶持。", None, None, (None, "2020-06-30")),
    ],
)
def test_event_period(text, year, published, expected):
    assert period(text, year=year, published=published) == expected


@pytest.mark.parametrize("sep", ["-", "—", "——", "–", "～", "~", "〜", "－", "至", "到", "起至"])
def test_range_separators(sep):
    assert period(f"活动时间：2020年3月{sep}6月", year=None) == ("2020-03-01", "2020-06-30")


def test_year_from_the_publication_date_else_from_the_title():
    text = "活动时间：10月23日-11月14日"
    assert period(text, published="2021-10-01") == ("2021-10-23", "2021-11-14")
    assert period(text, title="2021年清远市“粤贸全国，云上清远”直播节系列活动实施方案") == (
        "2021-10-23",
        "2021-11-14",
    )
    assert period(text, published="2021-10") == ("2021-10-23", "2021-11-14")  # a partial date has its year
    assert period(text) == (None, None)
    assert period(text, title="2020—2021年度直播节方案") == (None, None)  # two years: which one?


def test_the_title_year_before_the_publication_year_but_today_is_the_publication_year():
    title = "2021年春节直播促消费活动方案"
    assert period("活动时间：1月20日至2月28日", published="2020-12-20", title=title) == (
        "2021-01-20",
        "2021-02-28",
    )
    assert period("今年12月21日至12月31日期间举办预热活动。", published="2020-12-20", title=title) == (
        "2020-12-21",
        "2020-12-31",
    )


@pytest.mark.parametrize(
    "text",
    [
        "活动时间：1月20日至2月28日",  # next January, or a report on the past one?
        "我局于3月1日至6月30日期间举办了线上购物节。",
        "本通知有效期至6月30日。",
        "活动自即日起至6月30日。",
    ],
)
def test_a_guessed_year_that_puts_the_period_before_publication_is_not_read(text):
    assert period(text, published="2020-12-20") == (None, None)
    assert period(text, published="2020-01-10")[1] is not None


def test_a_heading_that_names_the_period_labels_the_next_paragraph():
    assert period("一、活动时间", "2021年3月1日至6月30日", "二、活动内容") == ("2021-03-01", "2021-06-30")
    assert period("一、有效期", "2021年3月1日至2023年2月28日") == ("2021-03-01", "2023-02-28")


@pytest.mark.parametrize(
    "text",
    [
        "报名截止时间：2020年3月20日。",
        "请于3月1日至3月10日期间报名。",
        "申报时间：2021年3月1日至3月31日。",
        "即日起至3月20日报名，逾期不予受理。",
        "报名时间：2021年10月1日至10月15日",
        "10月24日-10月30日",  # a table cell: nothing says what the range is
        "上海市政府印发《上海市促进在线新经济发展行动方案(2020-2022年)》。",
        "为促进消费，我局定于今年举办直播电商促消费活动。",
        "抖音电商于8月24日举办“抖音电商开放日-消费者体验专场”活动。",  # a news item's past event, not a period
        "活动期间，商家应当如实标明价格。",
        "活动时间：2022年3月至2021年6月",  # not a period
        "活动时间：2月30日至3月5日",  # no such day
    ],
)
def test_deadlines_and_other_dates_are_not_the_period(text):
    assert period(text, year=2021, published="2021-02-01") == (None, None)


# --- which statement wins -----------------------------------------------------------------------------------


def test_the_first_event_period_wins_over_a_later_sub_event():
    paragraphs = [
        "活动时间：10月23日-11月14日，共包含三大专场直播活动",
        "（一）启动仪式专场",
        "活动时间：10月23日-10月29日（7天）",
    ]
    v = extract_validity(paragraphs, year=2021)
    assert (v.valid_from, v.valid_to) == ("2021-10-23", "2021-11-14")
    assert v.from_evidence == v.to_evidence
    assert (v.from_evidence.paragraph, v.from_evidence.rule) == (0, "event")


def test_a_labelled_event_period_wins_over_an_unlabelled_one_stated_earlier():
    paragraphs = ["我局定于3月至12月期间举办系列活动。", "活动时间：3月1日至6月30日"]
    assert period(*paragraphs, published="2021-02-20") == ("2021-03-01", "2021-06-30")


def test_an_event_period_wins_over_the_effective_date():
    assert period("本通知自印发之日起施行。", "活动时间：3月1日至6月30日", published="2021-02-20") == (
        "2021-03-01",
        "2021-06-30",
    )


def test_its_validity_wins_over_an_event_period():
    assert period(
        "活动时间：2021年3月1日至3月31日",
        "本方案自印发之日起施行，有效期至2021年12月31日。",
        published="2021-02-20",
    ) == ("2021-02-20", "2021-12-31")


def test_the_first_effective_statement_wins():
    assert period("2022年3月1日 施行", "第三十五条 本规定自2022年3月1日起施行。") == ("2022-03-01", None)
    assert period("本办法自2021年1月1日起施行。", "附件：本细则自2021年2月1日起施行。") == (
        "2021-01-01",
        None,
    )


def test_evidence_names_the_sentence_and_the_clause():
    paragraphs = [
        "特此通知。",
        "为贯彻落实决策部署，深圳市商务局定于在今年3月至6月期间举办“购物节”，组织企业参加。特此通知。",
    ]
    v = extract_validity(paragraphs, published="2020-03-16")
    ev = v.from_evidence
    assert ev is not None and ev == v.to_evidence
    assert ev.sentence == "为贯彻落实决策部署，深圳市商务局定于在今年3月至6月期间举办“购物节”，组织企业参加"
    assert ev.phrase == "深圳市商务局定于在今年3月至6月期间举办“购物节”"
    assert (ev.paragraph, ev.start, ev.end, ev.rule) == (1, 0, 42, "event")
    assert paragraphs[1][ev.start : ev.end] == ev.sentence


def test_evidence_of_start_and_end_from_different_sentences():
    v = extract_validity(["第二十条 本办法自2021年3月1日起施行。本办法有效期5年。"])
    assert (v.from_evidence.sentence, v.from_evidence.rule) == (
        "第二十条 本办法自2021年3月1日起施行",
        "effective",
    )
    assert (v.to_evidence.sentence, v.to_evidence.rule) == ("本办法有效期5年", "validity")


def test_nothing_stated_is_none():
    v = extract_validity([])
    assert (v.valid_from, v.valid_to, v.from_evidence, v.to_evidence) == (None, None, None, None)


# --- at ingest: the seeds, the manifest, the real laws ------------------------------------------------------

# What each seed's text states; for the two with a period, the manifest says the same.
SEED_PERIODS = {
    "shenzhen_weishi_2020.txt": ("2020-03-01", "2020-06-30"),  # "今年3月至6月期间举办", published 2020-03-16
    "qingyuan_livestream_festival_2021.txt": (
        "2021-10-23",
        "2021-11-14",
    ),  # "活动时间：10月23日-11月14日", 2021
    "douyin_gov_media_rules_2023.txt": (
        None,
        None,
    ),  # a news item (an open day "于8月24日") and a platform rule
    "shanghai_livestream_measures_2020.txt": (None, None),  # a digest of measures that states no term
}


def copy_without_dates(name: str, folder: Path) -> Path:
    """The seed and a copy of the manifest without its valid_from / valid_to lines."""
    manifest = (CORPUS / MANIFEST_NAME).read_text(encoding="utf-8")
    kept = [ln for ln in manifest.splitlines() if not ln.startswith(("valid_from", "valid_to"))]
    (folder / MANIFEST_NAME).write_text("\n".join(kept) + "\n", encoding="utf-8")
    shutil.copy(CORPUS / name, folder / name)
    return folder / name


@pytest.mark.parametrize("name", SEEDS)
def test_seed_with_the_manifests_dates_removed(name, tmp_path):
    path = copy_without_dates(name, tmp_path)
    entry = load_manifest(tmp_path)[name]
    assert "valid_from" not in entry.values and "valid_to" not in entry.values
    r = ingest_file(path, entry, display_path=f"corpus/{name}")
    d = r.document
    assert (d.valid_from, d.valid_to) == SEED_PERIODS[name]
    given = load_manifest(CORPUS)[name].values
    assert (given.get("valid_from"), given.get("valid_to")) == SEED_PERIODS[name]
    assert d.guessed == (("valid_from", "valid_to") if SEED_PERIODS[name][0] else ())
    assert [x.field for x in r.dates] == list(d.guessed)
    seed = ingest_seed(name)
    assert r.clauses == seed.clauses  # the same clauses, ids and texts
    assert replace(d, valid_from=None, valid_to=None, guessed=()) == replace(
        seed.document, valid_from=None, valid_to=None, guessed=()
    )


@pytest.mark.parametrize("name", SEEDS)
def test_seed_without_a_manifest(name, tmp_path):
    shutil.copy(CORPUS / name, tmp_path / name)
    d = ingest_file(tmp_path / name).document
    assert (d.valid_from, d.valid_to) == SEED_PERIODS[name]


@pytest.mark.parametrize("name", SEEDS)
def test_seed_with_its_manifest_keeps_the_manifests_dates(name):
    r = ingest_seed(name)
    given = load_manifest(CORPUS)[name].values
    assert (r.document.valid_from, r.document.valid_to) == (given.get("valid_from"), given.get("valid_to"))
    assert r.dates == ()


def test_where_the_dates_of_a_seed_came_from():
    r = ingest_file(CORPUS / "qingyuan_livestream_festival_2021.txt")
    [start, end] = r.dates
    assert (start.field, start.value) == ("valid_from", "2021-10-23")
    assert (end.field, end.value) == ("valid_to", "2021-11-14")
    assert (start.rule, start.phrase, start.span) == ("event", "活动时间：10月23日-11月14日", end.span)
    assert r.text[start.span[0] :].startswith("活动时间：10月23日-11月14日，共包含三大专场直播活动+一场培训")


def test_the_manifest_wins_field_by_field():
    text = (CORPUS / "shenzhen_weishi_2020.txt").read_text(encoding="utf-8")

    def entry(key: str, value: str) -> ManifestEntry:
        return ManifestEntry("sz", "sz.txt", {key: value})

    r = ingest_text(text, source_path="sz.txt", doc_id="sz", entry=entry("valid_to", "2020-05-31"))
    assert (r.document.valid_from, r.document.valid_to) == ("2020-03-01", "2020-05-31")
    assert "valid_from" in r.document.guessed and "valid_to" not in r.document.guessed
    assert [(x.field, x.value) for x in r.dates] == [("valid_from", "2020-03-01")]
    r = ingest_text(text, source_path="sz.txt", doc_id="sz", entry=entry("valid_from", "2020-04-01"))
    assert (r.document.valid_from, r.document.valid_to) == ("2020-04-01", "2020-06-30")
    assert [(x.field, x.value) for x in r.dates] == [("valid_to", "2020-06-30")]


def test_the_manifests_date_dates_the_text():
    """ "自印发之日起施行" is the manifest's date when it gives one, not the date guessed from the signature."""
    text = (
        "关于印发直播电商扶持办法的通知\n\n本办法自印发之日起施行。\n\n深圳市商务局\n\n2020 年 3 月 16 日\n"
    )
    assert ingest_text(text, source_path="n.txt", doc_id="n").document.valid_from == "2020-03-16"
    entry = ManifestEntry("n", "n.txt", {"date": "2020-03-18"})
    assert ingest_text(text, source_path="n.txt", doc_id="n", entry=entry).document.valid_from == "2020-03-18"


def iso(cn_date: str) -> str:
    y, m, d = map(int, re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", cn_date).groups())
    return f"{y:04d}-{m:02d}-{d:02d}"


@pytest.mark.parametrize("name", LAWS)
def test_a_laws_effective_date_is_its_valid_from(name):
    """ "本法自2019年1月1日起施行" and the header "2022年3月1日 施行": valid_from, never a valid_to. The two
    Taiwanese acts say "本法自公布日施行": the date of the version (修正日期)."""
    effective = EXPECTED[name]["effective_date"]
    d = ingest_law(name).document
    assert (d.valid_from, d.valid_to) == (iso(effective) if effective else d.metadata.date, None)
    assert d.guessed[-1:] == ("valid_from",)


@pytest.mark.parametrize(
    "name, valid_from",
    [
        ("ecommerce_law_2018.md", "2019-01-01"),
        ("tw_consumer_protection_act.md", "2015-06-17"),
        ("tw_electronic_signatures_act.md", "2024-05-15"),
    ],
)
def test_spot_checks_on_the_laws(name, valid_from):
    assert (ingest_law(name).document.valid_from, ingest_law(name).document.valid_to) == (valid_from, None)


@pytest.mark.parametrize(
    "name, valid_from",
    [
        ("anti_monopoly_law_2022.md", "2008-08-01"),  # an amended law still says when it first took effect
        ("consumer_rights_implementing_regulation_2024.md", "2024-07-01"),
        ("internet_advertising_measures_2023.md", "2023-05-01"),
        ("trademark_law_2019.md", "1983-03-01"),  # and "注册商标的有效期为十年" is not the law's validity
        ("price_law_1997.md", "1998-05-01"),
        ("tw_multi_level_marketing_act.md", "2024-08-07"),
        ("gov_bonded_zones_opinions_2019.md", None),  # opinions: no effective date stated
    ],
)
def test_spot_checks_on_more_laws(name, valid_from):
    d = ingest_file(EXTERNAL2 / name).document
    assert (d.valid_from, d.valid_to) == (valid_from, None)
