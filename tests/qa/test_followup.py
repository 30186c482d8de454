"""qa.followup: a follow-up question read with the previous question's subject — and a question of its own
left alone."""

from __future__ import annotations

import doctest

import pytest

from policykb.qa import followup
from policykb.qa.followup import content_words, follow_up, leans_on_previous, split_connective


def test_module_doctests():
    assert doctest.testmod(followup).failed == 0


@pytest.mark.parametrize(
    ("question", "previous", "expected"),
    [
        # a platform for a platform, in the previous question's words
        ("那抖音呢？", "微视收费吗？", "抖音收费吗？"),
        ("快手呢", "抖音收费吗？", "快手收费吗？"),
        ("另外淘宝呢？", "拼多多对虚假宣传怎么处罚？", "淘宝对虚假宣传怎么处罚？"),
        ("那如果是快手呢", "抖音收费吗？", "快手收费吗？"),
        # a place for a place; 上海市 and 广州 are both places; a Traditional name is read Simplified
        ("那广州呢？", "上海对直播电商有什么扶持政策？", "广州对直播电商有什么扶持政策？"),
        ("广州呢？", "上海市对直播电商有什么扶持政策？", "广州对直播电商有什么扶持政策？"),
        ("那廣州呢？", "上海对直播电商有什么扶持政策？", "广州对直播电商有什么扶持政策？"),
        # English names (capitalised, not the first word)
        ("and Douyin?", "What does Weishi charge?", "What does Douyin charge?"),
        ("What about Kuaishou?", "What does Weishi charge?", "What does Kuaishou charge?"),
        # "还有呢" asks the previous question again
        ("还有呢？", "微视收费吗？", "微视收费吗？"),
        ("还有呢", "上海对直播电商有什么扶持政策？", "上海对直播电商有什么扶持政策？"),
        # only the thing asked for: the previous subject goes in front as the topic
        ("那处罚呢？", "抖音電商對虛假宣傳有什麼規定？", "抖音电商虚假宣传，处罚呢？"),
        ("多少钱？", "微视收费吗？", "微视收费，多少钱？"),
        ("退货呢？", "抖音小店的保证金是多少？", "抖音小店保证金，退货呢？"),
        ("What about penalties?", "What does Weishi charge?", "Weishi charge, penalties?"),
        # a name of another kind is no swap: 淘宝 is a platform, 上海 a place
        ("那淘宝呢", "上海对直播电商有什么扶持政策？", "上海直播电商扶持政策，淘宝呢"),
        # a name and a topic: the previous topic, minus the replaced name
        ("那广州的补贴呢？", "上海对直播电商有什么扶持政策？", "直播电商扶持政策，广州的补贴呢？"),
    ],
)
def test_a_follow_up_is_read_with_the_previous_subject(question, previous, expected):
    assert follow_up(question, previous) == expected


@pytest.mark.parametrize(
    ("question", "previous"),
    [
        ("抖音電商對虛假宣傳有什麼規定？", "微视收费吗？"),
        ("快手小店的保证金是多少？", "微视收费吗？"),
        ("微视收费吗？", "活动收费吗"),
        ("报名截止时间是什么时候？", "微视收费吗？"),
        ("那么，微视对新用户收费吗？", "抖音收费吗？"),  # a connective, but a whole question after it
        ("那曲有什么补贴？", "上海对直播电商有什么扶持政策？"),  # 那曲 is a place, not 那 + 曲
        ("那些平台收费吗？", "微视收费吗？"),  # 那些 is a word, not 那 + 些
        ("What does Weishi charge?", "微视收费吗？"),
    ],
)
def test_a_question_of_its_own_is_not_rewritten(question, previous):
    assert follow_up(question, previous) is None


def test_nothing_to_lean_on():
    assert follow_up("那抖音呢？", None) is None
    assert follow_up("那抖音呢？", "   ") is None
    assert follow_up("", "微视收费吗？") is None
    assert follow_up("那抖音呢？", "吗？") is None  # the previous question has no content word
    assert follow_up("收费吗？", "微视收费吗？") == "微视，收费吗？"


def test_chained_follow_ups_carry_the_subject_on():
    first = "微视收费吗？"
    second = follow_up("那抖音呢？", first)
    assert second == "抖音收费吗？"
    assert follow_up("快手呢？", second) == "快手收费吗？"


def test_connectives_and_words_that_only_look_like_one():
    assert split_connective("那么，广州呢？") == ("那么", "广州呢？")
    assert split_connective("还有呢") == ("还有", "呢")
    assert split_connective("那抖音呢？") == ("那", "抖音呢？")
    assert split_connective("And what about Douyin?") == ("And what about", "Douyin?")
    assert split_connective("andrew") == ("", "andrew")
    assert split_connective("那个平台呢") == ("", "那个平台呢")
    assert split_connective("那曲呢") == ("", "那曲呢")


def test_content_words_keep_names_whole_and_drop_question_words():
    words = content_words("快手小店的保证金是多少？")
    assert [(w.text, w.kind) for w in words] == [("快手小店", "platform"), ("保证金", "")]
    assert [(w.text, w.kind) for w in content_words("广州市有什么补贴")] == [
        ("广州市", "place"),
        ("补贴", ""),
    ]
    assert content_words("还有呢？") == ()
    assert content_words("为什么？") == ()


def test_leans_on_previous():
    assert leans_on_previous("那抖音呢？")
    assert leans_on_previous("处罚呢？")
    assert leans_on_previous("那广州的补贴呢？")
    assert not leans_on_previous("广州的直播补贴有多少？")
    assert not leans_on_previous("抖音電商對虛假宣傳有什麼規定？")
