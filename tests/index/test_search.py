"""Hybrid search over the hand-made knowledge base: ranking, references, filters, modes."""

import pytest
from kbdata import PIPELINE, TW_META, by_label, fill, make_doc

from policykb.index.filters import Filters
from policykb.index.llama import PolicyRetriever
from policykb.index.store import KnowledgeBase
from policykb.ingest.pipeline import ingest_text


def first(kb, query, **kw):
    hits = kb.search(query, **kw)
    assert hits, f"no hits for {query!r}"
    return hits[0]


@pytest.mark.parametrize(
    "query, doc_id, label",
    [
        ("电子商务平台经营者对平台内经营者进行不合理限制", "ecl", "第三十五条"),
        ("经营者应当办理市场主体登记吗", "ecl", "第十条"),
        ("活动由谁主办", "sz", "一、"),
        ("短视频拍多长时间", "sz", "3.1.2"),
        ("直播间虚假宣传", "dy", "1."),
    ],
)
def test_search_finds_the_clause(kb, query, doc_id, label):
    assert first(kb, query).clause == by_label(kb, doc_id, label)


@pytest.mark.parametrize(
    "query, doc_id, label",
    [
        ("第三十五条的内容", "ecl", "第三十五条"),  # sh's 第35条 is ranked after it, both are named
        ("电子商务法第三十五条", "ecl", "第三十五条"),
        ("《电子商务法》第三十五条", "ecl", "第三十五条"),
        ("《中华人民共和国电子商务法》第35条", "ecl", "第三十五条"),
        ("民法商法电子商务法第三十五条的内容是什么？", "ecl", "第三十五条"),
        ("上海市促进电子商务发展规定第三十五条", "sh", "第35条"),
        ("电子商务法第102条", "ecl", "第一百零二条"),
        ("第 7-1 條", "tw", "第 7-1 條"),
        ("消費者保護法第七條之一", "tw", "第 7-1 條"),
        ("消费者保护法第七条", "tw", "第 7 條"),
        ("消费者权益保护法第七条", "crl", "第七条"),
        ("3.1.2", "sz", "3.1.2"),
        ("（十二）", "sz", "（十二）"),
        ("(十二)是什么", "sz", "（十二）"),
        ("电子商务法第二章", "ecl", "第九条"),
        ("电子商务法第二章第十条", "ecl", "第十条"),
    ],
)
def test_reference_goes_first(kb, query, doc_id, label):
    hit = first(kb, query)
    assert hit.clause == by_label(kb, doc_id, label)
    assert hit.signals["reference"] == 1.0


def test_the_part_of_a_named_article_that_holds_the_rest_of_the_question_goes_first(settings, embedder):
    kb = KnowledgeBase.open(settings, embedder=embedder)
    fill(
        kb,
        [
            make_doc(
                "tw",
                "消費者保護法",
                TW_META,
                [
                    (
                        "第 1 條",
                        [],
                        "为保护消费者权益，促进国民消费生活安全，提升国民消费生活品质，特制定本法。",
                    ),
                    (
                        "第 2 條",
                        [],
                        "本法所用名词如下：一、企业经营者：指以设计、生产、制造、输入、经销商品为营业者。",
                    ),
                    (
                        "第 2 條",
                        [],
                        "十、通讯交易：指企业经营者以广播、电视、电话、网际网路或其他类似之方法，为消费者所订立之契约。",
                    ),
                ],
            )
        ],
    )
    head, later = [c for c in kb.clauses("tw") if c.label == "第 2 條"]
    assert first(kb, "消费者保护法第二条对通讯交易是怎么定义的？").clause == later  # the part with 通讯交易
    assert first(kb, "消费者保护法第二条").clause == head  # nothing else asked: the head, in reading order


def test_reference_without_a_law_names_every_document_with_that_number(kb):
    hits = kb.search("第三十五条", k=5)
    named = [(h.clause.doc_id, h.clause.label) for h in hits if "reference" in h.signals]
    assert sorted(named) == [("ecl", "第三十五条"), ("sh", "第35条")]
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_reference_to_a_law_not_in_the_index_is_not_a_reference_hit(kb):
    hits = kb.search("民法商法农民专业合作社法第三十五条的内容是什么？")
    assert not any("reference" in h.signals for h in hits)


@pytest.mark.parametrize(
    "query, doc_id, label",
    [
        ("人民群众利益", "dy", "1."),  # stored with the Kangxi radical ⼈
        ("⼈民群众", "dy", "1."),
        ("电子商务活动公示营业执照", "dy", "2."),  # stored with a zero-width space inside 电子商务
        ("電子商務活動公示營業執照", "dy", "2."),
    ],
)
def test_normalised_forms_match_in_bm25(kb, query, doc_id, label):
    assert first(kb, query, mode="bm25").clause == by_label(kb, doc_id, label)


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_a_radical_in_a_notice_is_quoted_and_found_as_the_ordinary_character(kb, mode):
    # A PDF text layer wrote 人民 as Kangxi ⼈ U+2F08 and supplement ⺠ U+2EA0; NFKC folds only the first.
    r = ingest_text("第一条 为⼈⺠服务，⻓期有效。", source_path="radicals.txt", doc_id="radicals")
    with kb.writer() as w:
        w.upsert(r.document, r.clauses, PIPELINE)
    [clause] = kb.clauses("radicals")
    assert clause.text == "为人民服务，长期有效。"
    assert clause.original == "为⼈⺠服务，⻓期有效。"  # as written
    assert first(kb, "人民", mode=mode, filters=Filters(doc_id="radicals")).clause == clause


def test_traditional_query_finds_simplified_text(kb):
    assert first(kb, "平臺內經營者不合理限制").clause == by_label(kb, "ecl", "第三十五条")


@pytest.mark.parametrize(
    "filters, docs",
    [
        (Filters(region="深圳"), {"sz"}),
        (Filters(region=["上海", "深圳"]), {"sh", "sz"}),
        (Filters(issuer="全国人民代表大会常务委员会"), {"ecl", "crl"}),
        (Filters(platform="抖音"), {"dy"}),
        (Filters(doc_type="law"), {"ecl", "tw", "crl"}),
        (Filters(doc_id="tw"), {"tw"}),
        (Filters(region="臺灣"), {"tw"}),  # filter values are compared by search key
        (Filters(date_from="2021-01-01"), {"sh", "sz", "dy"}),
        (Filters(date_to="2015"), {"tw", "crl"}),
        (Filters(date_from="2021-11-30", date_to="2021-11-30"), {"sh"}),  # "2021-11" covers the whole month
        (Filters(date_from="2023-06"), set()),
        (Filters(doc_type="law", region="全国", date_from="2018"), {"ecl"}),
        (Filters(region="火星"), set()),
        # region, issuer and platform match a part of the name people shorten; doc_type and doc_id do not
        (Filters(platform="微视"), {"sz"}),  # 腾讯微视
        (Filters(issuer="人大常委会"), set()),  # a part, not an abbreviation
        (Filters(issuer="常务委员会"), {"ecl", "crl", "sh"}),
        (Filters(doc_type="la"), set()),
        (Filters(doc_id="t"), set()),
    ],
)
def test_filters_apply_before_ranking(kb, filters, docs):
    for mode in ("hybrid", "bm25", "dense"):
        hits = kb.search("电子商务经营者 第三十五条", k=50, filters=filters, mode=mode)
        assert {h.clause.doc_id for h in hits} <= docs
    dense = kb.search("电子商务经营者", k=50, filters=filters, mode="dense")
    assert {h.clause.doc_id for h in dense} == docs  # dense ranks every allowed clause


def test_filters_restrict_reference_hits(kb):
    hits = kb.search("第三十五条", filters=Filters(region="上海"))
    assert hits[0].clause == by_label(kb, "sh", "第35条")
    assert {h.clause.doc_id for h in hits} == {"sh"}


@pytest.mark.parametrize(
    "bad, message",
    [
        ("2023/05/01", "date '2023/05/01' is not a date; use yyyy-mm-dd, yyyy-mm or yyyy"),
        ("2023-13", "date '2023-13' has no month 13; use yyyy-mm-dd, yyyy-mm or yyyy"),
        ("2023-02-30", "date '2023-02-30' has no day 30; use yyyy-mm-dd, yyyy-mm or yyyy"),
    ],
)
def test_bad_filter_date_is_rejected(bad, message):
    with pytest.raises(ValueError) as exc:
        Filters(date_from=bad)
    assert str(exc.value) == message


def test_modes(kb):
    bm25 = kb.search("不合理限制", mode="bm25", k=20)
    assert bm25 and all(set(h.signals) == {"bm25", "bm25_rank"} and h.score > 0 for h in bm25)
    dense = kb.search("不合理限制", mode="dense", k=5)
    assert len(dense) == 5 and all(set(h.signals) == {"dense", "dense_rank"} for h in dense)
    assert [h.score for h in dense] == sorted((h.score for h in dense), reverse=True)
    hybrid = kb.search("对平台内经营者进行不合理限制", k=5)
    assert hybrid[0].clause == by_label(kb, "ecl", "第三十五条")
    assert {"bm25", "dense"} <= set(hybrid[0].signals)


def test_pure_modes_ignore_references(kb):
    assert all("reference" not in h.signals for h in kb.search("第三十五条", mode="bm25"))


def test_unknown_mode_is_rejected(kb):
    with pytest.raises(ValueError) as exc:
        kb.search("x", mode="fuzzy")
    assert str(exc.value) == "search mode 'fuzzy' is not known; allowed: hybrid, bm25, dense"


def test_k_limits_results(kb):
    assert len(kb.search("电子商务", k=3)) == 3
    assert kb.search("电子商务", k=0) == []
    assert kb.search("   ") == []


def test_empty_knowledge_base_searches_without_an_embedder(settings):
    from policykb.index.store import KnowledgeBase

    kb = KnowledgeBase.open(settings)
    assert kb.search("电子商务") == []
    assert kb._embedder is None


def test_llama_index_retriever(kb):
    nodes = PolicyRetriever(kb, k=3).retrieve("电子商务法第三十五条")
    clause = by_label(kb, "ecl", "第三十五条")
    assert nodes[0].node.id_ == clause.clause_id
    assert nodes[0].node.get_content() == clause.text
    assert nodes[0].node.metadata["label"] == "第三十五条"
    assert nodes[0].score == pytest.approx(kb.search("电子商务法第三十五条", k=3)[0].score)
    filtered = PolicyRetriever(kb, k=10, filters=Filters(doc_id="sz")).retrieve("活动")
    assert {n.node.metadata["doc_id"] for n in filtered} == {"sz"}


def test_short_law_names_name_their_documents():
    from policykb.index.references import ReferenceIndex

    titles = {
        "ecl": "中华人民共和国电子商务法",
        "crl": "中华人民共和国消费者权益保护法",
        "pen": "侵害消费者权益行为处罚办法",
        "hz": "杭州市跨境电子商务促进条例",
        "pm": "明码标价和禁止价格欺诈规定",
    }
    refs = ReferenceIndex([], titles)
    assert refs.documents_named("电商法") == {"ecl"}
    assert refs.documents_named("消法") == refs.documents_named("消保法") == {"crl"}  # not 处罚办法
    assert refs.documents_named("杭州跨境电商条例") == {"hz"}
    assert refs.documents_named("规定") == set()  # a law word alone names nothing
    assert refs.titles_named("电商法对平台有什么要求") == ["电子商务法"]
    assert refs.titles_named("电子商务法对平台有什么要求") == []  # its own words are there already
    assert refs.titles_named("怎么规定的") == []
    issuing = ReferenceIndex([], {"n": "关于印发《网络交易监督管理办法》的通知"})
    # the name of the document a notice issues is not the notice's title: the title is still added
    assert issuing.titles_named("网络交易监督管理办法有什么规定") == ["关于印发网络交易监督管理办法的通知"]


def test_a_law_word_after_de_names_no_document():
    from policykb.index.references import ReferenceIndex

    titles = {
        "spc": "最高人民法院关于审理网络消费纠纷案件适用法律若干问题的规定",
        "sh": "上海市促进电子商务发展规定",
        "ad": "中华人民共和国广告法",
    }
    refs = ReferenceIndex([], titles)
    # "…的规定" and "…问题的规定" end the interpretation's title, but they name nothing in a question
    assert refs.titles_named("上海这份促进电商发展的规定里，电子商务指的是什么活动？") == []
    assert refs.titles_named("这个问题的规定是什么") == []
    assert refs.documents_named("的规定") == refs.documents_named("问题的规定") == set()
    # a name with a word of its own still names its document, by its tail or as an abbreviation
    assert refs.titles_named("网络消费纠纷的规定怎么说") == [titles["spc"]]
    assert refs.titles_named("上海促进电子商务发展规定") == [titles["sh"]]
    assert refs.documents_named("广告法") == {"ad"}
    # 法律规定 is no name either; part of a title after words of the question's own names another law
    assert refs.titles_named("坑位费，法律规定最高能收多少钱？") == []
    two = ReferenceIndex([], {"crl": "中华人民共和国消费者权益保护法", "tw": "消费者保护法"})
    assert two.titles_named("台湾的消费者保护法第二条") == ["消费者保护法"]
    assert two.titles_named("农民能适用消费者权益保护法吗") == ["消费者权益保护法"]
    # the tail 保护法 after the question's own 消费者 names neither law below: the abbreviation does, one law
    laws = ReferenceIndex(
        [], {"crl": "中华人民共和国消费者权益保护法", "pipl": "中华人民共和国个人信息保护法"}
    )
    assert laws.documents_named("台湾的消费者保护法") == {"crl"}
    # an abbreviation has no 的
    duty = ReferenceIndex([], {"p": "电子商务平台经营者落实主体责任的若干规定"})
    assert duty.titles_named("平台的规定是什么") == duty.titles_named("电子商务的规定有哪些") == []
    assert duty.documents_named("平台主体责任若干规定") == {"p"}


def test_references_doctests():
    import doctest

    from policykb.index import references

    assert doctest.testmod(references).failed == 0


def test_article_n_of_a_notice_numbered_with_list_items_is_its_item_n():
    from policykb.index.references import ReferenceIndex, parse_references

    titles = {
        "ip": "最高人民法院关于涉网络知识产权侵权纠纷几个法律适用问题的批复",
        "ecl": "中华人民共和国电子商务法",
    }
    rows = [(0, "ip", "五、", []), (1, "ip", "六、", []), (2, "ecl", "第六条", []), (3, "ecl", "第七条", [])]
    refs = ReferenceIndex(rows, titles)
    # the 批复 has no 第六条: its 六、 is meant; a comma may stand between the name and the number
    assert refs.lookup(parse_references("最高法关于涉网络知识产权侵权纠纷的批复，第六条讲的是什么？")) == [1]
    assert refs.lookup(parse_references("电子商务法第六条")) == [2]  # a law that has articles: the article
    assert refs.lookup(parse_references("第六条")) == [2]  # no law named: articles only, never a list item


def test_an_item_of_an_article_is_looked_up_within_that_article():
    from policykb.index.references import ReferenceIndex, parse_references

    rows = [(0, "hz", "第七条", []), (1, "hz", "（八）", ["第七条"]), (2, "hz", "（八）", ["第九条"])]
    refs = ReferenceIndex(rows, {"hz": "杭州市跨境电子商务促进条例"})
    assert refs.lookup(parse_references("杭州跨境电商条例第七条第（八）项规定了什么")) == [1]


def test_a_point_of_an_item_of_a_part_of_a_notice():
    from policykb.index.references import ReferenceIndex, parse_references

    titles = {"qy": "清远市直播节系列活动实施方案", "dy": "抖音电商政务媒体相关内容宣传规范"}
    rows = [
        (0, "qy", "2.", ["四、活动安排", "（三）乡村振兴专场"]),
        (1, "qy", "3.", ["四、活动安排", "（三）乡村振兴专场"]),
        (2, "qy", "3.", ["五、实施计划", "（三）乡村振兴专场"]),
        (3, "qy", "3.", ["五、实施计划", "（二）时尚专场"]),
        (4, "dy", "(3)", ["五、其他"]),
    ]
    refs = ReferenceIndex(rows, titles)
    found = parse_references("实施方案第五部分第（三）项乡村振兴专场的第3点是怎么安排的？")
    assert [r.key for r in found] == ["list:5", "paren:3", "list:3"]
    assert refs.lookup(found) == [2]


def test_a_notice_is_named_by_the_document_it_issues_and_before_a_section_name():
    from policykb.index.references import ReferenceIndex, parse_references

    titles = {
        "sz": "深圳市商务局关于印发“2020深圳线上购物节——腾讯微视专场活动”指引的通知",
        "bz": "国务院关于促进综合保税区高水平开放高质量发展的若干意见",
        "tw": "多層次傳銷管理法",
    }
    rows = [(0, "sz", "2.", ["二、业务流程", "（三）内容生产"]), (1, "bz", "18.", ["二、主要任务"])]
    rows.append((2, "tw", "第 18 條", []))
    refs = ReferenceIndex(rows, titles)
    assert refs.documents_named("活动指引") == {"sz"}
    [ref] = parse_references("国务院综保区意见主要任务第18条讲什么？")
    assert (ref.key, ref.law) == ("条:18", "国务院综保区意见")
    assert refs.lookup([ref]) == [1]  # the 意见's item 18., not the Taiwanese act's article 18
    assert refs.lookup(parse_references("活动指引第二部分（三）第2点有哪些限制？")) == [0]


def test_an_item_asked_for_comes_first_among_the_parts_of_its_article(settings, embedder):
    from kbdata import fill, make_doc

    from policykb.ingest.record import Metadata

    parts = [
        "市跨境电商综试办负责综试区的建设和统筹管理工作，履行下列职责：（一）执行有关跨境电子商务的法律法规；",
        "（二）组织编制发展规划；（三）统筹协调建设工作；",
        "（七）负责公共服务平台建设；（八）负责跨境电子商务人才体系建设；",
    ]
    doc = make_doc(
        "hz",
        "杭州市跨境电子商务促进条例",
        Metadata(region="浙江省杭州市", doc_type="regulation"),
        [("第七条", ["第二章 管理体制"], text) for text in parts],
    )
    kb = KnowledgeBase.open(settings, embedder=embedder)
    fill(kb, [doc])
    hits = kb.search("杭州跨境电商条例第七条第（八）项规定综试办负责什么？", k=3)
    assert [h.clause.text for h in hits] == [parts[2], parts[0], parts[1]]
    assert all("reference" in h.signals for h in hits)
