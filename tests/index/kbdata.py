"""The hand-made corpus of the index tests and helpers to build and damage knowledge bases."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from policykb.index.store import KnowledgeBase
from policykb.ingest.record import Clause, Document, Metadata, Source

PIPELINE = "test-1"


def make_doc(
    doc_id: str, title: str, metadata: Metadata, items: list[tuple], *, sha: str | None = None
) -> tuple[Document, list[Clause]]:
    """``items``: (label, section_path, text[, original]) in reading order."""
    doc = Document(
        doc_id=doc_id,
        title=title,
        source_path=f"corpus/{doc_id}.txt",
        sha256=sha or hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest(),
        metadata=metadata,
        n_clauses=len(items),
    )
    clauses, pos = [], 0
    for seq, (label, path, text, *rest) in enumerate(items):
        original = rest[0] if rest else text
        clauses.append(
            Clause.create(
                doc_id=doc_id,
                title=title,
                label=label,
                section_path=path,
                text=text,
                original=original,
                source=Source(doc.source_path, pos, pos + len(original)),
                metadata=metadata,
                seq=seq,
            )
        )
        pos += len(original) + 1
    return doc, clauses


ECL_META = Metadata(issuer="全国人民代表大会常务委员会", region="全国", date="2018-08-31", doc_type="law")
CH1, CH2 = "第一章 总则", "第二章 电子商务经营者"
ECL = (
    "ecl",
    "中华人民共和国电子商务法",
    ECL_META,
    [
        ("第一条", [CH1], "为了保障电子商务各方主体的合法权益，规范电子商务行为，维护市场秩序，制定本法。"),
        ("第二条", [CH1], "中华人民共和国境内的电子商务活动，适用本法。"),
        (
            "第九条",
            [CH2, "第一节 一般规定"],
            "本法所称电子商务经营者，是指通过互联网等信息网络从事销售商品或者提供服务的经营活动的自然人、法人和非法人组织。",
        ),
        ("第十条", [CH2, "第一节 一般规定"], "电子商务经营者应当依法办理市场主体登记。"),
        (
            "第三十五条",
            [CH2, "第二节 电子商务平台经营者"],
            "电子商务平台经营者不得利用服务协议、交易规则以及技术等手段，对平台内经营者在平台内的交易、交易价格以及与其他经营者的交易等进行不合理限制或者附加不合理条件。",
        ),
        ("第一百零二条", ["第七章 附则"], "本法自二〇一九年一月一日起施行。"),
    ],
)
SH_META = Metadata(
    issuer="上海市人民代表大会常务委员会", region="上海", date="2021-11", doc_type="regulation"
)
SH = (
    "sh",
    "上海市促进电子商务发展规定",
    SH_META,
    [
        ("第35条", [], "本市鼓励电子商务企业开展直播营销活动，规范直播带货行为。"),
        ("第36条", [], "市商务部门应当会同有关部门建立电子商务统计监测制度。"),
    ],
)
TW_META = Metadata(issuer="立法院", region="台湾", date="2015-06-17", doc_type="law")
TW = (
    "tw",
    "消費者保護法",
    TW_META,
    [
        (
            "第 7 條",
            [],
            "从事设计、生产、制造商品或提供服务之企业经营者，应确保该商品或服务符合当时科技或专业水准可合理期待之安全性。",
            "從事設計、生產、製造商品或提供服務之企業經營者，應確保該商品或服務符合當時科技或專業水準可合理期待之安全性。",
        ),
        (
            "第 7-1 條",
            [],
            "企业经营者主张其商品于流通进入市场，或其服务于提供时，符合当时科技或专业水准可合理期待之安全性者，就其主张之事实负举证责任。",
            "企業經營者主張其商品於流通進入市場，或其服務於提供時，符合當時科技或專業水準可合理期待之安全性者，就其主張之事實負舉證責任。",
        ),
    ],
)
CRL_META = Metadata(issuer="全国人民代表大会常务委员会", region="全国", date="2013-10-25", doc_type="law")
CRL = (
    "crl",
    "中华人民共和国消费者权益保护法",
    CRL_META,
    [
        (
            "第七条",
            ["第二章 消费者的权利"],
            "消费者在购买、使用商品和接受服务时享有人身、财产安全不受损害的权利。",
        ),
    ],
)
SZ_META = Metadata(
    issuer="深圳市商务局", region="深圳", platform="腾讯微视", date="2023-05", doc_type="event_plan"
)
SZ = (
    "sz",
    "关于举办腾讯微视直播电商专场活动的通知",
    SZ_META,
    [
        ("一、", ["一、活动主办"], "本专场活动由市商务局主办，腾讯微视承办。"),
        ("3.1.2", ["三、报名流程", "3.1 报名"], "短视频建议30秒左右为佳，画面清晰。"),
        ("（十二）", ["四、支持措施"], "腾讯微视平台对本次活动不收取任何费用。"),
    ],
)
DY_META = Metadata(
    issuer="抖音电商", region="全国", platform="抖音", date="2022-11-15", doc_type="platform_rule"
)
DY = (
    "dy",
    "抖音电商直播间管理规范",
    DY_META,
    [
        ("1.", ["一、总则"], "主播应维护⼈民群众利益，不得在直播间虚假宣传。"),  # Kangxi radical ⼈ (U+2F08)
        (
            "2.",
            ["一、总则"],
            "商家开展电子\u200b商务活动应当公示营业执照信息。",
        ),  # zero-width space inside 电子商务
    ],
)
CORPUS = [ECL, SH, TW, CRL, SZ, DY]


def build_docs() -> list[tuple[Document, list[Clause]]]:
    return [make_doc(*spec) for spec in CORPUS]


def fill(kb: KnowledgeBase, docs=None) -> None:
    with kb.writer() as w:
        for doc, clauses in docs or build_docs():
            w.upsert(doc, clauses, PIPELINE)


def by_label(kb: KnowledgeBase, doc_id: str, label: str) -> Clause:
    return next(c for c in kb.clauses(doc_id) if c.label == label)


def rewrite(path: Path, data: bytes) -> None:
    """Replace a generation file *and* its manifest entry: a consistent-looking but wrong file."""
    path.write_bytes(data)
    gen = next(p for p in path.parents if (p / "manifest.json").is_file())
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"][path.relative_to(gen).as_posix()] = {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    (gen / "manifest.json").write_text(json.dumps(manifest))
    reseal(gen)


def reseal(gen: Path) -> None:
    """Record ``gen``'s edited manifest in CURRENT, as a forger with write access to the home could."""
    from policykb.index import disk

    home = gen.parents[1]
    seals = disk.read_seals(home) | {int(gen.name): disk.manifest_sha(gen)}
    disk.replace_current(home, disk.read_current(home), seals)
