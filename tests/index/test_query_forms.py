"""Query forms: language detection, t2s, pinyin names from the corpus, glossary, CC-CEDICT fallback."""

from __future__ import annotations

import dataclasses
import doctest
import re
import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.errors import ConfigError
from policykb.index import query_forms
from policykb.index.query_forms import (
    CEDICT_PATH,
    GLOSSARY_PATH,
    Lexicon,
    QueryForms,
    Vocabulary,
    default_lexicon,
    detect_language,
    expand_query,
)
from policykb.ingest.record import Clause, Metadata, Source

PINYIN = frozenset({"pinyin"})
GLOSSARY = frozenset({"glossary"})
DICTIONARY = frozenset({"dictionary"})


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.from_texts(
        ["腾讯微视平台", "抖音电商", "清远时尚专场", "企业注册账号须选择QQ号而非微信"]
    )


# ------------------------------------------------------------------------------------------ language


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("腾讯微视专场活动由谁主办？", "zh"),
        ("宣傳「低價秒殺」「免單返現」卻不兌現屬於什麼違規？", "zh-hant"),
        ("What does Weishi charge?", "en"),
        ("Weishi 收费吗", "zh"),  # mixed, mostly Chinese
        ("Weishi 收費嗎", "zh-hant"),
        ("What does 微视 charge?", "en"),  # mixed, mostly English
        ("乾隆", "zh"),  # t2s keeps 乾 here: Simplified input is unchanged
        ("", "zh"),
        ("2020", "zh"),
    ],
)
def test_detect_language(query, lang):
    assert detect_language(query) == lang
    assert expand_query(query).lang == lang


def test_simplified_query_is_unchanged():
    query = "企业在微视开店前需要满足什么要求？"
    forms = expand_query(query)
    assert forms == QueryForms(original=query, zh=query, lang="zh", terms=("开设", "店铺"))


def test_traditional_query_is_converted_with_t2s():
    forms = expand_query("宣傳「低價秒殺」「免單返現」卻不兌現屬於什麼違規？")
    assert forms.zh == "宣传「低价秒杀」「免单返现」却不兑现属于什么违规？"
    assert forms.original == "宣傳「低價秒殺」「免單返現」卻不兌現屬於什麼違規？"
    assert forms.terms == ()


def test_colloquial_chinese_adds_formal_terms_not_already_in_the_query():
    assert expand_query("微视收钱吗").terms == ("收费", "费用")
    assert expand_query("腾讯微视专场活动由谁主办？").terms == ("主办单位",)
    # 收费 is already there, so 多少钱 adds only 费用/价格; 收费 itself adds how notices spell it out.
    assert expand_query("多少钱，收费吗").terms == ("费用", "价格", "收取")


def test_query_forms_is_frozen():
    forms = expand_query("微视")
    with pytest.raises(dataclasses.FrozenInstanceError):
        forms.zh = "x"  # type: ignore[misc]


# ------------------------------------------------------------------------------------- pinyin names


def test_vocabulary_keys_corpus_words_by_toneless_pinyin():
    v = Vocabulary.from_texts(["腾讯微视平台", "抖音电商"])
    assert v.word_for_pinyin("weishi") == "微视"
    assert v.word_for_pinyin("douyin") == "抖音"
    assert v.word_for_pinyin("tengxun") == "腾讯"
    assert v.word_for_pinyin("kuaishou") is None
    assert "平台" in v and "快手" not in v


def test_pinyin_names_match_corpus_words():
    v = Vocabulary.from_texts(["腾讯微视平台", "抖音电商"])
    assert expand_query("Weishi Douyin", v, sources=PINYIN).zh == "微视 抖音"
    assert expand_query("weishi", v, sources=PINYIN).zh == "微视"
    assert expand_query("WEISHI", v, sources=PINYIN).zh == "微视"
    assert expand_query("Weishi's rules", v, sources=PINYIN).zh == "微视"


def test_a_name_split_in_two_tokens_still_matches():
    v = Vocabulary.from_texts(["腾讯微视平台"])
    assert expand_query("Wei shi", v, sources=PINYIN).zh == "微视"
    assert expand_query("Wei-Shi", v, sources=PINYIN).zh == "微视"


def test_pinyin_never_produces_a_word_outside_the_vocabulary():
    v = Vocabulary.from_texts(["腾讯微视平台", "抖音电商"])
    assert expand_query("Kuaishou", v, sources=PINYIN) == QueryForms("Kuaishou", "", "en", ())
    assert expand_query("Weishi", None, sources=PINYIN).zh == ""  # no corpus, no names


def test_lower_case_english_word_is_not_read_as_pinyin():
    v = Vocabulary.from_texts(["我们的平台"])  # 我们 = women
    assert v.word_for_pinyin("women") == "我们"
    assert expand_query("women", v, sources=PINYIN).zh == ""
    assert expand_query("women", v).zh == "女性"


def test_more_frequent_homophone_wins():
    v = Vocabulary.from_tokens([["时尚", "时尚", "实尚"]])
    assert v.word_for_pinyin("shishang") == "时尚"


def test_vocabulary_from_clauses_reads_text_title_and_metadata():
    clause = Clause.create(
        doc_id="sz",
        title="腾讯微视专场活动指引",
        label="2.",
        section_path=["活动报名"],
        text="平台对本次活动不收取费用。",
        original="平台对本次活动不收取费用。",
        source=Source(path="corpus/sz.txt", start=0, end=13),
        metadata=Metadata(issuer="深圳市商务局", region="深圳市", platform="腾讯微视"),
        seq=0,
    )
    v = Vocabulary.from_clauses([clause])
    assert all(w in v for w in ("费用", "微视", "深圳", "商务局", "报名", "指引"))
    assert expand_query("Shenzhen Weishi", v, sources=PINYIN).zh == "深圳 微视"


def test_vocabulary_counts_repeated_text_and_skips_empty():
    v = Vocabulary.from_texts(["抖音电商", "抖音电商", "", "抖音"])
    assert v.frequency("抖音") == 3
    assert v.frequency("快手") == 0
    assert len(Vocabulary.from_texts([])) == 0


# ------------------------------------------------------------------------------------------ glossary


def test_english_question_is_rendered_in_chinese(vocab):
    forms = expand_query("Can a company register a Weishi account with WeChat?", vocab)
    assert forms == QueryForms(
        original="Can a company register a Weishi account with WeChat?",
        zh="企业 注册 微视 账号 微信",
        lang="en",
        terms=("企业", "公司", "注册", "报名", "微视", "账号", "账户", "微信"),
    )


def test_event_question(vocab):
    forms = expand_query("When is the Qingyuan fashion live-streaming session?", vocab)
    assert forms.zh == "时间 清远 时尚 直播 专场"
    assert forms.terms == ("时间", "日期", "清远", "时尚", "服饰", "直播", "专场")


def test_glossary_phrases_beat_single_words():
    assert expand_query("business license").zh == "营业执照"
    assert expand_query("business").zh == "企业"
    assert expand_query("live streaming e-commerce").zh == "直播电商"
    assert expand_query("live-streaming").zh == expand_query("live streaming").zh == "直播"
    assert expand_query("e-commerce").zh == expand_query("e commerce").zh == "电商"
    assert expand_query("Hong Kong").zh == "香港"


def test_glossary_phrase_with_a_possessive_matches_the_question_word():
    # A question's "People's" is read as "people"; the glossary key "people's court" must be read the same.
    assert expand_query("Supreme People's Court").zh == "最高人民法院"
    assert expand_query("the people’s court").zh == "人民法院"
    assert expand_query("peoples government").zh == "人民政府"


def test_glossary_beats_pinyin_and_pinyin_beats_dictionary():
    v = Vocabulary.from_texts(["我们的平台"])
    assert expand_query("women", v).zh == "女性"  # glossary, not the corpus word 我们
    v = Vocabulary.from_texts(["腾讯微视平台"])
    assert expand_query("Weishi", v).zh == "微视"  # corpus pinyin
    assert expand_query("Weishi").zh == "尉氏"  # without a corpus: CC-CEDICT's place name


def test_first_rendering_present_in_the_corpus_goes_into_zh():
    with_account = Vocabulary.from_texts(["银行账户"])
    assert expand_query("account", with_account).zh == "账户"
    assert expand_query("account").zh == "账号"
    assert expand_query("account", with_account).terms == ("账户", "账号")


def test_inflected_forms_find_their_base_form():
    assert expand_query("fees").zh == "费用"
    assert expand_query("registered").zh == "注册"
    assert expand_query("products").zh == "商品"  # not CC-CEDICT's "products" → 用品
    assert expand_query("subsidies").zh == "补贴"


@pytest.mark.parametrize(
    ("query", "zh"),
    [
        ("When does the regulation come into effect?", "时间 规定 施行"),  # not 前来 效应
        ("Do livestreamers have to disclose ads?", "直播营销人员 公示 广告"),
        ("What happens if a courier loses my parcel?", "快递 丢失 包裹"),
        ("How long must transaction records be kept?", "时长 必须 交易记录 保存"),
        # "notice" alone is a stop word (according to the notice), "without notice" is not
        ("Can a platform delist a seller without notice?", "平台 下架 商家 未通知"),
        ("What are a platform operator's duties toward minors?", "电子商务平台经营者 义务 未成年人"),
        ("Does a handwritten signature have the same legal effect?", "手写签名 同等法律效力"),
        ("Is stored data protected?", "存储 数据 保护"),  # not 店铺: "store" is a shop
    ],
)
def test_legal_english_the_glossary_renders(query, zh):
    assert expand_query(query).zh == zh


def test_a_phrase_matches_with_each_word_typed_or_in_its_base_form():
    # "live streaming host" in the glossary; "streaming" is kept as typed, "hosts" read as "host"
    assert expand_query("Can live-streaming hosts exaggerate?").zh == "直播营销人员 夸大"
    # "ads" read as "ad" (three letters will do in the glossary): before, 线上 广告 and 飞溅 屏幕 广告
    assert expand_query("Who regulates online ads?").zh == "监管 互联网广告"
    assert expand_query("Can false ads be removed?").zh.startswith("虚假广告")
    # no other mix of forms: "consumers rights" would take the "rights" of "rights to know" (知情权)
    assert expand_query("Do consumers' rights to know apply to livestreams?").zh == "消费者 知情权 适用 直播"
    assert expand_query("Is UPS to blame for the lost parcel?").zh.startswith("UPS")  # not "up" (up to)


def test_stop_words_are_dropped():
    assert expand_query("What is the of it?") == QueryForms("What is the of it?", "", "en", ())
    assert expand_query("What are the subsidies?").zh == "补贴"


def test_acronyms_are_kept():
    assert expand_query("QQ MCN").zh == "QQ MCN"
    assert expand_query("XYZQ rules").zh == "XYZQ 规则"


def test_mixed_chinese_query_translates_english_words(vocab):
    forms = expand_query("Weishi 收费吗", vocab)
    assert forms == QueryForms("Weishi 收费吗", "微视 收费吗", "zh", ("微视", "收取", "费用"))
    assert expand_query("Weishi 收費嗎", vocab).zh == "微视 收费吗"


def test_english_query_keeps_chinese_fragments(vocab):
    forms = expand_query("What does 微视 charge?", vocab)
    assert forms.zh == "微视 收费"
    assert forms.terms == ("收费", "费用")


def test_full_width_latin_is_read_as_english(vocab):
    assert expand_query("Ｗｅｉｓｈｉ ｆｅｅ", vocab).zh == "微视 费用"


# --------------------------------------------------------------------------------------- CC-CEDICT


def test_dictionary_fallback_for_a_word_the_glossary_lacks():
    lex = default_lexicon()
    assert ("umbrella",) not in lex.glossary
    assert expand_query("umbrella").zh == "雨伞"
    assert expand_query("umbrella", sources=GLOSSARY).zh == ""
    assert expand_query("umbrella", sources=DICTIONARY) == QueryForms("umbrella", "雨伞", "en", ("雨伞",))


def test_dictionary_prefers_candidates_the_corpus_uses():
    v = Vocabulary.from_texts(["一把伞的价格"])
    assert expand_query("umbrella", v, sources=DICTIONARY).zh == "伞"


def test_dictionary_renders_place_names_outside_the_corpus():
    assert expand_query("Guangzhou").zh == "广州"


def test_cedict_map_carries_attribution_and_licence():
    head = CEDICT_PATH.read_text(encoding="utf-8")[:2000]
    assert "CC-CEDICT" in head and "CC BY-SA 4.0" in head and "MDBG" in head
    assert CEDICT_PATH.stat().st_size < 5_000_000


# ------------------------------------------------------------------------------------ glossary data


def test_packaged_glossary_is_well_formed():
    data = tomllib.loads(GLOSSARY_PATH.read_text(encoding="utf-8"))
    entries = {k: v for topic in data["en"].values() for k, v in topic.items()}
    assert len(entries) >= 200
    for key, values in entries.items():
        assert key == key.lower() and key.strip() == key, key
        for v in values:
            assert re.fullmatch(r"[\u4e00-\u9fffA-Z0-9%]+", v), (key, v)


def _write(tmp_path, text: str):
    path = tmp_path / "glossary.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_glossary_loader_reports_duplicates_across_topics(tmp_path):
    path = _write(tmp_path, '[en.a]\n"e-commerce" = ["电商"]\n[en.b]\n"e commerce" = ["电子商务"]\n')
    same = r"'e commerce' in \[en.b\] is the same key as 'e-commerce' in \[en.a\]"
    with pytest.raises(ConfigError, match=same):
        Lexicon.load(path, cedict_path=None)


def test_glossary_loader_rejects_bad_values_and_tables(tmp_path):
    with pytest.raises(ConfigError, match="non-empty list"):
        Lexicon.load(_write(tmp_path, '[en.a]\n"fee" = "费用"\n'), cedict_path=None)
    with pytest.raises(ConfigError, match="unknown tables"):
        Lexicon.load(_write(tmp_path, '[fr.a]\n"frais" = ["费用"]\n'), cedict_path=None)
    with pytest.raises(ConfigError, match="cannot read"):
        Lexicon.load(tmp_path / "missing.toml", cedict_path=None)


def test_custom_lexicon_is_used(tmp_path):
    toml = '[en.a]\n"widget" = ["小部件", "部件"]\n'
    lex = Lexicon.load(_write(tmp_path, toml), cedict_path=None, stopwords=frozenset({"The"}))
    assert expand_query("the widget", lexicon=lex) == QueryForms(
        "the widget", "小部件", "en", ("小部件", "部件")
    )


def test_stop_words_are_one_file_for_every_stage(tmp_path):
    from policykb.index.keywords import ENGLISH_STOPWORDS, STOPWORDS, load_stopwords, tokenize

    assert {"的", "什么", "the"} <= STOPWORDS and {"tell", "please", "the"} <= ENGLISH_STOPWORDS
    assert tokenize("微视的费用是什么") == ["微视", "费用"]  # search stop words leave the BM25 tokens
    assert "please" in default_lexicon().stopwords  # the English ones leave a rendered English question
    with pytest.raises(ConfigError, match="unknown tables"):  # a glossary holds no stop words any more
        Lexicon.load(_write(tmp_path, '[stopwords]\nwords = ["the"]\n'), cedict_path=None)
    bad = tmp_path / "stopwords.toml"
    bad.write_text('[search]\nwords = "的"\n[english]\nwords = []\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[search\] words must be a list of strings"):
        load_stopwords(bad)


# ------------------------------------------------------------------------------------------ general


def test_module_doctests():
    assert doctest.testmod(query_forms).failed == 0


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab Weishi微視收费吗 ,?-'QQ1２３ｗ乾")), max_size=30))
def test_expand_query_never_fails(text):
    forms = expand_query(text, Vocabulary.from_texts(["腾讯微视平台"]))
    assert forms.original == text
    assert forms.lang in ("zh", "zh-hant", "en")
    assert len(set(forms.terms)) == len(forms.terms)
    if forms.lang == "en":
        assert not re.search(r"[a-z]", forms.zh)  # only Chinese and acronyms reach the retriever


# ------------------------------------------------------------------------------- Taiwan's wording

TAIWAN_TOML = """
[en.a]
"fine" = ["罚款", "处罚"]
"standard form contract" = ["格式条款"]
"business" = ["企业"]
[zh.colloquial]
"罚钱" = ["罚款"]
[zh.taiwan]
"罰鍰" = ["罚款"]
"定型化契约" = ["格式条款", "定型化契约条款"]
"定型化契约条款" = ["格式条款"]
"歇业" = ["停业", "终止"]
"""


def test_taiwan_table_is_read_backwards_without_its_own_wording(tmp_path):
    lex = Lexicon.load(_write(tmp_path, TAIWAN_TOML), cedict_path=None)
    # read backwards from each entry's first value only (终止 of a contract is no 歇业), keys as Simplified (罰鍰)
    assert lex.taiwan == {"罚款": ("罚锾",), "格式条款": ("定型化契约", "定型化契约条款"), "停业": ("歇业",)}
    assert lex.taiwan_wording(w for w in ["罚款", "格式条款"]) == ("罚锾", "定型化契约", "定型化契约条款")
    assert lex.taiwan_wording(["罚款", "处罚", "罚锾"]) == ()  # 罚锾 is already among the words
    assert lex.taiwan_wording(["处罚", "格式条款", "罚款"]) == ("定型化契约", "定型化契约条款", "罚锾")


def test_a_question_about_taiwan_also_searches_taiwans_wording(tmp_path):
    lex = Lexicon.load(_write(tmp_path, TAIWAN_TOML), cedict_path=None)
    # English: each word's Taiwan wording follows its renderings (the answerer groups them by word)
    assert expand_query("Taiwan business fine", lexicon=lex).terms == ("企业", "罚款", "处罚", "罚锾")
    assert expand_query("Business fine in Taiwan", lexicon=lex).terms == ("企业", "罚款", "处罚", "罚锾")
    assert expand_query("Business fine", lexicon=lex).terms == ("企业", "罚款", "处罚")
    # Chinese: the question's own words and the colloquial glossary's, Simplified or Traditional
    assert expand_query("臺灣的格式条款违规会罚钱吗", lexicon=lex).terms == (
        "罚款",
        "定型化契约",
        "定型化契约条款",
        "罚锾",
    )
    assert expand_query("台湾罚款多少", lexicon=lex).terms == ("罚锾",)
    assert expand_query("大陆罚款多少", lexicon=lex).terms == ()
    # named in Traditional, in mixed script, or in English glued to Chinese
    assert expand_query("臺灣會罰款多少", lexicon=lex).terms == ("罚锾",)
    assert expand_query("臺湾罚款多少", lexicon=lex).terms == ("罚锾",)
    assert expand_query("在Taiwan罚款多少", lexicon=lex).terms == ("罚锾",)
    # a Traditional key of the glossary fires on the question's Simplified form
    assert expand_query("罰鍰是什么", lexicon=lex).terms == ("罚款",)


def test_the_packaged_taiwan_table_maps_the_mainland_fine_to_taiwans():
    assert "罚锾" in default_lexicon().taiwan["罚款"]
    assert "罚锾" in expand_query("What fines apply under Taiwan's Consumer Protection Act?").terms


# ---------------------------------------------------------------------- a phrase inside a longer word

NOT_WITHIN_TOML = """
[zh.colloquial]
"续费" = ["自动续费"]
"罚" = ["处罚"]
[zh.not_within]
"续费" = ["手续费"]
"""


def test_a_colloquial_phrase_does_not_fire_inside_the_longer_words_listed(tmp_path):
    lex = Lexicon.load(_write(tmp_path, NOT_WITHIN_TOML), cedict_path=None)
    assert lex.not_within == {"续费": ("手续费",)}
    assert lex.colloquial_in("平台收多少手续费") == []
    assert lex.colloquial_in("手续费和续费怎么算") == [("续费", ("自动续费",))]  # said once outside it
    assert lex.colloquial_in("会员续费被罚") == [("续费", ("自动续费",)), ("罚", ("处罚",))]
    assert expand_query("退票要收多少手续费", lexicon=lex).terms == ()
    assert expand_query("自动续费怎么取消", lexicon=lex).terms == ()  # 自动续费 is in the question already


def test_the_packaged_exceptions_hold():
    assert "自动续费" not in expand_query("售票平台最多可以收多少手续费？").terms
    assert "处罚" not in expand_query("惩罚性赔偿金最多几倍？").terms
    assert "地点" not in expand_query("这个规定后来在哪一年修订过？").terms
    assert "地点" in expand_query("活动在哪举办？").terms


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[zh.not_within]\n"续费" = ["手续费"]\n',
            r"\[zh.not_within\] '续费' is not a colloquial phrase of \[zh\.\*\]",
        ),
        (
            '[zh.a]\n"续费" = ["自动续费"]\n[zh.not_within]\n"续费" = ["手续"]\n',
            r"\[zh.not_within\] every word listed for '续费' must contain it, not \('手续',\)",
        ),
    ],
)
def test_bad_exceptions_are_reported(tmp_path, toml, message):
    with pytest.raises(ConfigError, match=message):
        Lexicon.load(_write(tmp_path, toml), cedict_path=None)
