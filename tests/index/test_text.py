"""Search keys, tokens, Chinese numerals and reference parsing (no knowledge base needed)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policykb.index.keywords import tokenize
from policykb.index.references import Reference, label_key, parse_references, title_key
from policykb.ingest.numbering import cn_to_int, int_to_cn
from policykb.ingest.text import search_key


@pytest.mark.parametrize(
    "raw, key",
    [
        ("⼈民", "人民"),  # Kangxi radical ⼈ U+2F08
        ("⺠法", "民法"),  # CJK radical supplement ⺠ U+2EA0
        ("电子\u200b商务", "电子商务"),
        ("\ufeff电子\u200c商\u200d务\u2060", "电子商务"),
        ("電子商務", "电子商务"),
        ("电 子 商 务", "电子商务"),
        ("ＡＢＣ １２３", "abc 123"),
        ("（十二）①", "(十二)1"),
        ("乾隆", "乾隆"),
        ("\uf9b5如", "例如"),  # CJK compatibility ideograph U+F9B5 → 例
    ],
)
def test_search_key(raw, key):
    assert search_key(raw) == key


def test_tokens_of_variant_spellings_agree():
    assert tokenize("⼈民") == tokenize("人民")
    assert tokenize("电子\u200b商务") == tokenize("电子商务") == tokenize("電子商務")


def test_tokenize_drops_punctuation_and_stopwords():
    assert tokenize("《电子商务法》的内容是什么？") == ["电子", "商务", "电子商务", "法"]


@pytest.mark.parametrize(
    "text, n",
    [
        ("三十五", 35),
        ("35", 35),
        ("一百零二", 102),
        ("两", 2),
        ("两百", 200),
        ("十", 10),
        ("十二", 12),
        ("一千零五十", 1050),
        ("一〇二", 102),
        ("叁拾伍", 35),
        ("一万零一十", 10010),
    ],
)
def test_cn_to_int(text, n):
    assert cn_to_int(text) == n


@pytest.mark.parametrize("text", ["", "第", "条", "abc"])
def test_cn_to_int_rejects_non_numerals(text):
    assert cn_to_int(text) is None


@pytest.mark.parametrize(
    "n, text",
    [
        (35, "三十五"),
        (102, "一百零二"),
        (10, "十"),
        (18, "十八"),
        (110, "一百一十"),
        (1050, "一千零五十"),
        (10010, "一万零一十"),
    ],
)
def test_int_to_cn(n, text):
    assert int_to_cn(n) == text


@given(st.integers(min_value=0, max_value=99_999_999))
def test_numerals_round_trip(n):
    assert cn_to_int(int_to_cn(n)) == n


@pytest.mark.parametrize(
    "label, key",
    [
        ("第三十五条", "条:35"),
        ("第35条", "条:35"),
        ("第 35 条", "条:35"),
        ("第一百零二条", "条:102"),
        ("第 7-1 條", "条:7-1"),
        ("第七条之一", "条:7-1"),
        ("第二章", "章:2"),
        ("第二章 电子商务经营者", "章:2"),
        ("第一节 一般规定", "节:1"),
        ("3.1.2", "dot:3.1.2"),
        ("3.1.2.", "dot:3.1.2"),
        ("（十二）", "paren:12"),
        ("(12)", "paren:12"),
        ("一、", "list:1"),
        ("2.", "list:2"),
        ("", None),
        ("附则", None),
    ],
)
def test_label_key(label, key):
    assert label_key(label) == key


@pytest.mark.parametrize(
    "query, refs",
    [
        ("第三十五条", [Reference("条", "35")]),
        ("第35条", [Reference("条", "35")]),
        ("电子商务法第三十五条", [Reference("条", "35", "电子商务法")]),
        ("《电子商务法》第三十五条", [Reference("条", "35", "电子商务法")]),
        ("《中华人民共和国电子商务法》的第三十五条", [Reference("条", "35", "电子商务法")]),
        ("民法商法电子商务法第三十五条的内容是什么？", [Reference("条", "35", "民法商法电子商务法")]),
        ("第 7-1 條", [Reference("条", "7-1")]),
        ("消費者保護法第7-1條", [Reference("条", "7-1", "消费者保护法")]),
        ("3.1.2", [Reference("dot", "3.1.2")]),
        ("（十二）", [Reference("paren", "12")]),
        ("(十二)", [Reference("paren", "12")]),
        ("第二章", [Reference("章", "2")]),
        ("本法第十条", [Reference("条", "10")]),
        ("Article 35", [Reference("条", "35")]),
        ("第三十五条和第三十六条", [Reference("条", "35"), Reference("条", "36")]),
        ("价格3.15元，增长2.5%", []),
        ("直播带货要注意什么", []),
    ],
)
def test_parse_references(query, refs):
    assert parse_references(query) == refs


def test_title_key():
    assert title_key("中华人民共和国电子商务法（2018年修正）") == "电子商务法"
    assert title_key("《消費者保護法》") == "消费者保护法"


def test_jieba_cache_is_read_as_jieba_would(tmp_path):
    import marshal

    import jieba

    from policykb.index.keywords import _load_jieba_cache

    freq, total = {"电商": 5, "电": 0}, 5
    (tmp_path / "jieba.cache").write_bytes(marshal.dumps((freq, total)))
    dt = jieba.Tokenizer()
    dt.tmp_dir = str(tmp_path)
    _load_jieba_cache(dt)
    assert (dt.FREQ, dt.total, dt.initialized) == (freq, total, True)

    (tmp_path / "jieba.cache").write_bytes(b"not marshal data")
    dt = jieba.Tokenizer()
    dt.tmp_dir = str(tmp_path)
    _load_jieba_cache(dt)  # unreadable: left for jieba's initialize to rebuild
    assert (dt.FREQ, dt.total, dt.initialized) == ({}, 0, False)

    custom = jieba.Tokenizer(str(tmp_path / "my_dict.txt"))
    custom.tmp_dir = str(tmp_path)
    _load_jieba_cache(custom)  # another dictionary: jieba's own cache rules
    assert not custom.initialized
