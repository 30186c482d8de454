"""Red-header metadata (``ingest/redhead.py``): 文号, office, dates, 主送, 抄送 and the 印发 line are read into
metadata, never become clauses, and can be filtered on (``--doc-number``, ``--issuer``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from conftest_pipeline import DATA, assert_no_text_lost

from policykb.config import Settings
from policykb.index.filters import Filters
from policykb.index.store import KnowledgeBase
from policykb.ingest.layout import Line
from policykb.ingest.mtext import MText
from policykb.ingest.pipeline import ingest_file
from policykb.ingest.redhead import read_red_header
from policykb.ui.ingesting import ingest_paths

NOTICES = DATA / "notices"
SZ = NOTICES / "redhead_shenzhen_2021.txt"
GD = NOTICES / "header_fields_platform_2021.txt"
GOV = DATA / "external2" / "gov_bonded_zones_opinions_2019.md"
POLICYKB = Path(sys.executable).with_name("policykb")


def meta(path: Path) -> dict[str, object]:
    return ingest_file(path).document.to_dict()["metadata"]  # type: ignore[return-value]


def header(*lines: str) -> dict[str, str]:
    _, _, head = read_red_header([Line(MText.of(t)) for t in lines])
    return head.values()


def test_red_header_notice_metadata():
    assert meta(SZ) == {
        "issuer": "深圳市商务局",
        "region": "深圳市",
        "platform": None,
        "date": "2021-04-20",  # the signature's date, not the 印发 date
        "doc_type": "notice",
        "doc_number": "深商务电商字〔2021〕35号",
        "signed": "2021-04-20",
        "published": "2021-04-22",
        "addressees": "各区商务主管部门，各有关行业协会、企业",
        "copy_to": "市政府办公厅，市市场监管局",
        "printed": "深圳市商务局办公室 2021年4月22日印发",
    }


def test_red_header_lines_are_no_clauses_and_no_text_is_lost():
    r = ingest_file(SZ)
    assert [(c.label, c.section_path) for c in r.clauses] == [
        ("", ()),
        ("一、", ()),
        ("（一）", ("二、活动内容",)),
        ("（二）", ("二、活动内容",)),
        ("三、", ()),
    ]
    text = "\n".join(c.text for c in r.clauses)
    for gone in ("深商务电商字〔2021〕35号", "各区商务主管部门，各有关行业协会、企业：", "抄送", "印发\n"):
        assert gone not in text
    # A number cited inside a sentence is text, not this notice's number.
    assert "（国办发〔2020〕32号）要求" in r.clauses[0].text
    assert r.clauses[-1].text.endswith("特此通知。\n深圳市商务局\n2021年4月20日\n（此件主动公开）")
    assert r.document.guessed == ("date", "doc_type", "issuer", "region", "title", "valid_from", "valid_to")
    assert_no_text_lost(r)


def test_header_fields_of_a_government_site():
    assert meta(GD) == {
        "issuer": "广东省商务厅",
        "region": "广东省",  # the issuer 广东省商务厅 governs the province
        "platform": None,
        "date": "2021-03-15",
        "doc_type": "notice",
        "doc_number": "粤商务电字〔2021〕7号",
        "signed": "2021-03-15",
        "published": "2021-03-18",
        "addressees": "各地级以上市商务主管部门",
        "copy_to": None,
        "printed": None,
    }
    r = ingest_file(GD)
    assert [c.label for c in r.clauses] == ["", "一、", "二、", "三、"]
    assert r.clauses[0].text == "为规范网络直播营销活动，保护消费者合法权益，现就有关事项通知如下："
    assert_no_text_lost(r)


def test_a_real_state_council_notice():
    r = ingest_file(GOV)
    m = r.document.metadata
    assert (m.doc_number, m.issuer, m.signed, m.addressees) == (
        "国发〔2019〕3号",
        "国务院",
        "2019-01-12",
        "各省、自治区、直辖市人民政府，国务院各部委、各直属机构",
    )
    assert not any("国发〔2019〕3号" in c.text or "各直属机构：" in c.text for c in r.clauses)
    assert r.clauses[0].text.startswith("综合保税区是开放型经济的重要平台")
    assert_no_text_lost(r)


@pytest.mark.parametrize(
    "lines, expected",
    [
        (
            ("国务院办公厅文件", "国办发〔2018〕129号"),
            {"issuer": "国务院办公厅", "doc_number": "国办发〔2018〕129号"},
        ),
        (("粤商务函[2020]12号    签发人：王五",), {"doc_number": "粤商务函[2020]12号"}),
        (("（法释〔2022〕8号）",), {"doc_number": "法释〔2022〕8号"}),
        (("國家市場監督管理總局令第72號",), {"doc_number": "国家市场监督管理总局令第72号"}),
        # an order number in parentheses keeps both or neither of them
        (("（中华人民共和国国务院令 第778号）",), {"doc_number": "中华人民共和国国务院令第778号"}),
        (("标题", "各有关单位：", "正文。"), {"addressees": "各有关单位"}),
        # a court's list of courts, the last one far from 法院 (a judicial reply's addressees)
        (
            ("标题", "各省高级人民法院，新疆维吾尔自治区高级人民法院生产建设兵团分院：", "正文。"),
            {"addressees": "各省高级人民法院，新疆维吾尔自治区高级人民法院生产建设兵团分院"},
        ),
        (("标题", "义诊地点设在市中医院城东分院：", "正文。"), {}),  # a hospital's branch is no court's
        # A sentence ending in a colon is the body, not the addressees; nor is a numbered heading.
        (("标题", "现将有关事项通知如下：", "一、时间"), {}),
        (("标题", "一、参加单位：", "各区。"), {}),
        (("关于清理部分文件", "正文。"), {}),  # a title that ends in 文件 is no banner
        (("正文。", "抄 送：市政府办公厅。"), {"copy_to": "市政府办公厅"}),
        (("正文。", "成文日期：2019-01-12"), {"signed": "2019-01-12"}),
    ],
)
def test_header_lines(lines, expected):
    assert header(*lines) == expected


def test_a_number_far_below_the_top_is_text():
    lines = ["标题", *[f"第{n}段。" for n in range(1, 15)], "国办发〔2018〕129号"]
    assert header(*lines) == {}


# --- filters, the CLI --------------------------------------------------------------------------------------


@pytest.fixture
def kb(monkeypatch) -> KnowledgeBase:
    monkeypatch.setenv("POLICYKB_EMBEDDING_MODEL", "fake")
    kb = KnowledgeBase.open(Settings.load())
    report = ingest_paths(kb, [SZ, GD, GOV], max_chars=360)
    assert [f.status for f in report.files] == ["added"] * 3
    return kb


def docs_found(kb: KnowledgeBase, **filters: str) -> list[str]:
    hits = kb.search("直播 综合保税区 活动", k=50, filters=Filters(**filters))
    return sorted({h.clause.doc_id for h in hits})


@pytest.mark.parametrize(
    "filters, docs",
    [
        ({"doc_number": "国发〔2019〕3号"}, ["gov-bonded-zones-opinions-2019"]),
        ({"doc_number": "国发[2019]3号"}, ["gov-bonded-zones-opinions-2019"]),  # any brackets
        ({"doc_number": "國發（2019）3號"}, ["gov-bonded-zones-opinions-2019"]),  # and Traditional
        ({"doc_number": "深商务"}, ["redhead-shenzhen-2021"]),  # a part of it
        ({"doc_number": "〔2021〕"}, ["header-fields-platform-2021", "redhead-shenzhen-2021"]),
        ({"doc_number": "国办发"}, []),  # only cited in a sentence, no notice's own number
        ({"issuer": "商务厅"}, ["header-fields-platform-2021"]),
        ({"issuer": "深圳市商务局", "doc_number": "深商务电商字〔2021〕35号"}, ["redhead-shenzhen-2021"]),
    ],
)
def test_filter_by_document_number_and_office(kb, filters, docs):
    assert docs_found(kb, **filters) == docs


def test_document_numbers_are_a_facet(kb):
    assert kb.facets()["doc_number"] == [
        "国发〔2019〕3号",
        "深商务电商字〔2021〕35号",
        "粤商务电字〔2021〕7号",
    ]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POLICYKB_EMBEDDING_MODEL": "fake"}
    return subprocess.run(
        [str(POLICYKB), *args], capture_output=True, text=True, timeout=600, env=env, check=False
    )


def test_cli_search_clauses_and_docs_show_and_filter_the_number():
    assert cli("ingest", str(SZ), str(GOV)).returncode == 0
    out = cli("search", "活动", "--doc-number", "深商务电商字[2021]35号", "--json")
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert hits and {h["metadata"]["doc_number"] for h in hits} == {"深商务电商字〔2021〕35号"}
    clauses = [
        json.loads(ln)
        for ln in cli("clauses", "--doc", "redhead-shenzhen-2021", "--json").stdout.splitlines()
    ]
    assert {c["metadata"]["printed"] for c in clauses} == {"深圳市商务局办公室 2021年4月22日印发"}
    assert {c["metadata"]["addressees"] for c in clauses} == {"各区商务主管部门，各有关行业协会、企业"}
    listing = cli("docs").stdout.splitlines()
    assert sorted(ln.split()[-1] for ln in listing) == ["国发〔2019〕3号", "深商务电商字〔2021〕35号"]
    edited = cli("docs", "edit", "redhead-shenzhen-2021", "--doc-number", "深商务电商字〔2021〕36号")
    assert edited.returncode == 0, edited.stderr
    bad = cli("docs", "edit", "redhead-shenzhen-2021", "--published", "2021-13-01")
    assert bad.returncode != 0 and "2021-13-01" in bad.stderr
