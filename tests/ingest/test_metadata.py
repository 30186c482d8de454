"""Document metadata: from the manifest, or guessed from the text (and then listed as guessed)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import CORPUS, EXPECTED, LAWS, ingest_law, ingest_seed, t2s

from policykb.errors import ConfigError
from policykb.ingest.metadata import ALLOWED_KEYS, ManifestEntry, doc_id_for, guess, load_manifest
from policykb.ingest.pipeline import ingest_file, ingest_text
from policykb.ingest.record import Metadata

NOTICE = """关于开展2020年直播电商促消费活动的通知

各区商务主管部门、各有关企业：

为促进消费，我局定于今年举办直播电商促消费活动。请各单位结合实际，组织企业参加。

特此通知。

深圳市商务局

2020 年 3 月 16 日
"""


def iso(cn_date: str) -> str:
    y, m, d = map(int, re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", cn_date).groups())
    return f"{y:04d}-{m:02d}-{d:02d}"


def test_notice_signature_gives_issuer_and_date():
    r = ingest_text(NOTICE, source_path="notice.txt", doc_id="notice")
    d = r.document
    assert d.title == "关于开展2020年直播电商促消费活动的通知"
    assert d.metadata == Metadata(
        issuer="深圳市商务局",
        region="深圳市",
        platform=None,
        date="2020-03-16",
        doc_type="notice",
        signed="2020-03-16",
        addressees="各区商务主管部门、各有关企业",
    )
    assert d.guessed == ("date", "doc_type", "issuer", "region", "title")


def test_manifest_values_win_and_are_not_listed_as_guessed():
    entry = ManifestEntry(
        "n", "notice.txt", {"title": "给定标题", "issuer": "上海市商务委员会", "date": "2020-12-04"}
    )
    d = ingest_text(NOTICE, source_path="notice.txt", doc_id="n", entry=entry).document
    assert (d.title, d.metadata.issuer, d.metadata.date) == ("给定标题", "上海市商务委员会", "2020-12-04")
    assert d.metadata.region == "深圳市"  # not in the entry: still guessed
    assert d.guessed == ("doc_type", "region")


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.txt")))
def test_seeds_with_their_manifest_guess_nothing(name):
    d = ingest_seed(name).document
    assert d.guessed == ()
    entry = load_manifest(CORPUS)[name]
    assert d.doc_id == entry.doc_id
    assert d.title == entry.values["title"]
    assert d.metadata.date == entry.values["date"] and d.metadata.issuer == entry.values["issuer"]


def test_shenzhen_without_a_manifest(tmp_path):
    f = tmp_path / "shenzhen_weishi_2020.txt"
    shutil.copy(CORPUS / f.name, f)
    d = ingest_file(f).document
    assert d.doc_id == "shenzhen-weishi-2020"
    assert d.title == "深圳市商务局关于印发“2020深圳线上购物节——腾讯微视专场活动”指引的通知"
    assert d.metadata == Metadata(
        issuer="深圳市商务局",
        region="深圳市",
        platform="腾讯微视",
        date="2020-03-16",
        doc_type="notice",
        signed="2020-03-16",
        addressees="各区（大鹏新区、深汕特别合作区）商务主管部门、各商协会和相关企业",
    )
    assert d.guessed == (
        "date",
        "doc_type",
        "issuer",
        "platform",
        "region",
        "title",
        "valid_from",
        "valid_to",
    )
    assert (d.valid_from, d.valid_to) == (
        "2020-03-01",
        "2020-06-30",
    )  # "今年3月至6月期间", as the manifest says


@pytest.mark.parametrize("name", LAWS)
def test_law_title_issuer_and_date(name):
    e = EXPECTED[name]
    d = ingest_law(name).document
    assert d.title == t2s(e["title"])
    assert d.metadata.issuer == e["issuer"]
    if (
        e["date"] is None
    ):  # only the effective date is stated ("本规定自…起施行"): that is the best date there is
        assert d.metadata.date == iso(e["effective_date"])
    elif re.fullmatch(r"\d{8}", e["date"]):  # 修正日期：20150617
        assert d.metadata.date == f"{e['date'][:4]}-{e['date'][4:6]}-{e['date'][6:]}"
    else:
        assert d.metadata.date == iso(e["date"])
    assert "title" in d.guessed and "date" in d.guessed


def test_effective_date_is_not_the_date_when_another_is_stated():
    d = ingest_law("price_marking_anti_fraud_2022.md").document
    assert (d.metadata.date, EXPECTED["price_marking_anti_fraud_2022.md"]["effective_date"]) == (
        "2022-04-14",
        "2022年7月1日",
    )


def test_region_only_from_a_place_name():
    d = ingest_law("price_marking_anti_fraud_2022.md").document
    assert (d.metadata.issuer, d.metadata.region) == ("国家市场监督管理总局", None)  # not "国家市"
    d = ingest_law("hangzhou_crossborder_ecommerce_2017.md").document
    assert (d.metadata.issuer, d.metadata.region) == ("杭州市人民代表大会常务委员会", "杭州市")
    d = ingest_law("zhejiang_ecommerce_regulation_2021.md").document
    assert (d.metadata.issuer, d.metadata.region) == ("浙江省人民代表大会常务委员会", "浙江省")  # a province
    d = ingest_law("shanghai_ecommerce_promotion.md").document
    assert (d.title, d.metadata.issuer, d.metadata.region) == ("上海市促进电子商务发展规定", None, "上海市")
    assert "region" in d.guessed


@pytest.mark.parametrize("name", ["tw_consumer_protection_act.md", "tw_electronic_signatures_act.md"])
def test_a_taiwanese_act_is_of_the_region_taiwan(name):
    d = ingest_law(name).document
    assert (d.metadata.issuer, d.metadata.region) == (
        None,
        "台湾",
    )  # 新臺幣 with 行政院, 司法院 or 數位發展部


@pytest.mark.parametrize(
    "issuer, region",
    [
        ("浙江省市场监督管理局", "浙江省"),  # 省市 is a word, but 浙江省 is a province
        ("新疆维吾尔自治区人民政府", "新疆维吾尔自治区"),
        ("广东省深圳市商务局", "广东省深圳市"),
        ("本省人民政府", None),
        ("国家市场监督管理总局", None),
    ],
)
def test_region_of_an_issuer(issuer, region):
    found, _ = guess(
        ["关于开展促消费活动的通知", "特此通知。", issuer, "2021年4月20日"], ["关于开展促消费活动的通知"], "n"
    )
    assert (found["issuer"], found.get("region")) == (issuer, region)


@pytest.mark.parametrize(
    "title",
    ["综合保税区管理办法", "关于厉行节省的通知", "全国城市一刻钟便民生活圈建设指南", "经济开发区条例"],
)
def test_a_title_gives_a_region_only_when_it_starts_with_a_province(title):
    found, _ = guess([title, "正文。"], [title], "n")
    assert "region" not in found


def test_a_taiwanese_citys_act_is_of_taiwan():
    lines = ["臺北市消費者保護自治條例", "違者處新臺幣一萬元罰鍰，由行政院公告。"]
    assert guess(lines, lines[:1], "n")[0]["region"] == "台湾"
    signed = [*lines, "臺北市法務局", "2020年1月1日"]
    assert guess(signed, lines[:1], "n")[0]["region"] == "台湾台北市"


def test_a_mainland_issuer_wins_over_a_cross_strait_texts_taiwanese_words():
    lines = [
        "关于对台贸易结算的通知",
        "以新台币计价的合同，参照行政院公告的汇率。",
        "福建省商务厅",
        "2021年4月20日",
    ]
    assert guess(lines, lines[:1], "n")[0]["region"] == "福建省"


def test_one_taiwanese_institution_named_does_not_make_a_notice_taiwanese():
    found, _ = guess(
        ["关于两岸电商合作的通知", "台湾地区的行政院曾发布相关规定。", "特此通知。"],
        ["关于两岸电商合作的通知"],
        "n",
    )
    assert "region" not in found
    found, _ = guess(
        ["平台规则", "违规处理由平台法务部负责；中华民国时期的史料不在此列。"], ["平台规则"], "n"
    )
    assert "region" not in found  # a company's 法务部 is no Taiwanese ministry
    found, _ = guess(["關於網購的公告", "罰鍰新臺幣一萬元，由行政院公告。"], ["關於網購的公告"], "n")
    assert found["region"] == "台湾"


@pytest.mark.parametrize(
    "name, doc_type",
    [
        ("ecommerce_law_2018.md", "law"),
        ("spc_online_ip_infringement_reply_2020.md", "judicial_reply"),
        ("spc_online_consumption_disputes_2022.md", "judicial_interpretation"),
        ("zhejiang_ecommerce_regulation_2021.md", "regulation"),
        ("tw_electronic_signatures_act.md", "law"),
    ],
)
def test_doc_type_from_the_title(name, doc_type):
    assert ingest_law(name).document.metadata.doc_type == doc_type


def test_title_field_of_a_header_block():
    found, guessed = guess(
        ["法規名稱：消費者保護法", "修正日期：20150617"], ["法規名稱：消費者保護法"], "fallback"
    )
    assert (found["title"], found["date"]) == ("消费者保护法", "2015-06-17")
    assert guessed == ["date", "doc_type", "title"]


def test_fallback_title_is_the_file_name():
    found, guessed = guess(["平台经营者应当公示营业执照信息。"], [], "my_notice")
    assert found == {"title": "my_notice", "doc_type": "document"}
    assert guessed == ["doc_type", "title"]


def test_platform_needs_three_mentions():
    lines = ["抖音直播间应当公示信息。", "抖音平台应当处理投诉。", "快手平台应当处理投诉。"]
    assert "platform" not in guess(lines, [], "x")[0]
    assert guess(lines + ["抖音商家应当遵守规则。"], [], "x")[0]["platform"] == "抖音"


# --- the manifest and doc ids ------------------------------------------------------------------------------------


def test_corpus_manifest_has_every_seed():
    entries = load_manifest(CORPUS)
    assert sorted(entries) == sorted(p.name for p in CORPUS.glob("*.txt"))
    assert entries["shenzhen_weishi_2020.txt"].doc_id == "shenzhen-weishi-2020"


def test_no_manifest_is_an_empty_manifest(tmp_path):
    assert load_manifest(tmp_path) == {}


def test_manifest_with_an_unknown_key(tmp_path):
    (tmp_path / "manifest.toml").write_text(
        '[[document]]\ndoc_id = "a"\nfile = "a.txt"\nauthor = "x"\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as exc:
        load_manifest(tmp_path)
    assert str(exc.value) == (
        f"{tmp_path / 'manifest.toml'}: document #1: needs doc_id and file; unknown keys "
        f"['author']; allowed: {sorted(ALLOWED_KEYS)}"
    )


def test_manifest_without_doc_id(tmp_path):
    (tmp_path / "manifest.toml").write_text('[[document]]\nfile = "a.txt"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_manifest(tmp_path)
    assert str(exc.value).startswith(
        f"{tmp_path / 'manifest.toml'}: document #1: needs doc_id and file; unknown keys []"
    )


def test_manifest_that_is_not_toml(tmp_path):
    (tmp_path / "manifest.toml").write_text("[[document]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_manifest(tmp_path)
    assert str(exc.value).startswith(f"{tmp_path / 'manifest.toml'}: not valid TOML (")


@pytest.mark.parametrize(
    "name, doc_id",
    [
        ("shenzhen_weishi_2020.txt", "shenzhen-weishi-2020"),
        ("通知（2020）.txt", "通知-2020"),
        ("../../x.txt", "x"),
        ("Ｆｕｌｌ　Width.md", "full-width"),
        ("..txt", "document"),
        ("-rf.txt", "rf"),
    ],
)
def test_doc_id_for(name, doc_id):
    assert doc_id_for(Path(name)) == doc_id


@pytest.mark.parametrize(
    "title_lines, title",
    [
        (
            ["【文件名称】网络购买商品七日无理由退货暂行办法", "【颁布机构】国家工商行政管理总局令第90号"],
            "网络购买商品七日无理由退货暂行办法",
        ),
        (["【法律名称】中华人民共和国消费者权益保护法实施条例"], "中华人民共和国消费者权益保护法实施条例"),
        (
            ["国务院关于促进综合保税区", "高水平开放高质量发展的若干意见", "国发〔2019〕3号"],
            "国务院关于促进综合保税区高水平开放高质量发展的若干意见",
        ),
    ],
)
def test_guessed_title_drops_field_labels_and_joins_a_broken_title(title_lines, title):
    assert guess(title_lines, title_lines, "fallback")[0]["title"] == title


def test_state_council_is_an_issuer():
    lines = ["国务院关于促进综合保税区", "高水平开放高质量发展的若干意见"]
    assert guess(lines, lines, "x")[0]["issuer"] == "国务院"


def test_the_dating_note_under_a_title_gives_date_and_issuer_not_the_effective_date_field():
    lines = [
        "【法律名称】网络交易监督管理办法",
        "【施行日期】2021年5月1日",
        "网络交易监督管理办法",
        "（2021年3月15日国家市场监督管理总局令第37号公布 自2021年5月1日起施行）",
        "第一条 为了规范网络交易活动，制定本办法。",
        "第五十六条 本办法自2021年5月1日起施行。",
    ]
    found, _ = guess(lines, lines[:3], "n")
    assert (found["issuer"], found["date"]) == ("国家市场监督管理总局", "2021-03-15")
    found, _ = guess(lines[:3], lines[:3], "n")
    assert found["date"] == "2021-05-01"  # an effective date is the date when no other is stated
