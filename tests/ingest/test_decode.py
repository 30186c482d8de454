"""Text decoding by scoring (RELIABILITY 13-14): BOMs, GBK/GB18030, Big5, short texts, rare characters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policykb.errors import EmptyDocumentError, IngestError, InvalidFileError
from policykb.ingest.decode import SAMPLE_BYTES, decode_text, normalize_newlines, score_text


@pytest.fixture(scope="module")
def shenzhen(data_dir) -> str:
    return (data_dir / "encodings" / "shenzhen.utf8.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tw_act(data_dir) -> str:
    """Traditional Chinese with no pinyin annotations, so every character is Big5-encodable."""
    return (data_dir / "external" / "tw_consumer_protection_act.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def mixed_rare(data_dir) -> str:
    return (data_dir / "encodings" / "mixed_rare.utf8.txt").read_text(encoding="utf-8")


def test_utf8_seed(shenzhen):
    d = decode_text(shenzhen.encode("utf-8"), path="sz.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == (shenzhen, "utf-8", 1.0, ())


def test_gbk_seed_decodes_as_gb18030(data_dir, shenzhen):
    d = decode_text((data_dir / "encodings" / "shenzhen.gbk.txt").read_bytes(), path="sz.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == (shenzhen, "gb18030", 0.97, ())


def test_utf8_bom_is_stripped(data_dir, shenzhen):
    d = decode_text((data_dir / "encodings" / "shenzhen.utf8bom.txt").read_bytes(), path="sz.txt")
    assert (d.text, d.encoding, d.confidence) == (shenzhen, "utf-8-sig", 1.0)


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_with_bom(codec, bom, shenzhen):
    d = decode_text(bom + shenzhen.encode(codec), path="sz.txt")
    assert (d.text, d.encoding, d.confidence) == (shenzhen, "utf-16", 1.0)


def test_utf32_bom_is_not_mistaken_for_utf16():
    d = decode_text(b"\xff\xfe\x00\x00" + "第一条 通知".encode("utf-32-le"), path="a.txt")
    assert (d.text, d.encoding) == ("第一条 通知", "utf-32")


def test_big5_also_decodes_as_gb18030_but_scoring_picks_big5(tw_act):
    data = tw_act.encode("big5")
    garbage = data.decode("gb18030")  # the trap: no error, wrong text
    assert garbage != tw_act
    d = decode_text(data, path="tw.md")
    assert (d.text, d.encoding, d.confidence, d.warnings) == (tw_act, "big5", 0.97, ())


def test_big5_file_from_test_data(data_dir):
    expected = (data_dir / "encodings" / "tw_esign.utf8.md").read_text(encoding="utf-8")
    d = decode_text((data_dir / "encodings" / "tw_esign.big5.md").read_bytes(), path="tw.md")
    assert (d.text, d.encoding, d.warnings) == (expected, "big5", ())


def test_short_gbk_that_is_also_valid_utf8(data_dir):
    data = (data_dir / "encodings" / "short_gbk.txt").read_bytes()
    assert data.decode("utf-8") == "\u0368\u05aa"  # the trap: valid UTF-8, two combining marks
    d = decode_text(data, path="short.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == ("通知", "gb18030", 1.0, ())


def test_short_gbk_title(data_dir):
    d = decode_text((data_dir / "encodings" / "short_gbk_gonggao.txt").read_bytes(), path="t.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == (
        "关于开展直播电商活动的公告",
        "gb18030",
        0.88,
        (),
    )


@pytest.mark.parametrize(
    "word", ["通知", "公告", "规定", "条例", "附件", "深圳", "直播", "电商", "第一条", "办法"]
)
def test_short_gbk_words(word):
    assert decode_text(word.encode("gbk"), path="w.txt").text == word


@pytest.mark.parametrize("word", ["通知", "公告", "規定", "條例", "消費者", "電子簽章", "第一條"])
def test_short_big5_words(word):
    d = decode_text(word.encode("big5"), path="w.txt")
    assert (d.text, d.encoding) == (word, "big5")


def test_ambiguous_short_text_reports_low_confidence():
    # 办法 in GBK reads as 域楊 in Big5: both are common characters, so the choice is a coin toss
    # settled by preferring GB18030; the warning says so.
    d = decode_text("办法".encode("gbk"), path="w.txt")
    assert (d.text, d.encoding, d.confidence) == ("办法", "gb18030", 0.51)
    assert d.warnings == ("low confidence in encoding gb18030 (0.51)",)


def test_rare_characters_in_utf8_survive(mixed_rare):
    d = decode_text(mixed_rare.encode("utf-8"), path="rare.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == (mixed_rare, "utf-8", 1.0, ())
    assert {"裏", "𠀀", "䶮"} <= set(d.text)


def test_only_rare_characters_in_utf8():
    d = decode_text("𠀀䶮裏".encode(), path="rare.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == ("𠀀䶮裏", "utf-8", 0.88, ())


def test_rare_characters_in_gb18030_survive(mixed_rare):
    d = decode_text(mixed_rare.encode("gb18030"), path="rare.txt")
    assert (d.text, d.encoding, d.warnings) == (mixed_rare, "gb18030", ())


def test_character_cut_by_the_sample_boundary():
    # The first non-ASCII byte starts the sample; a GBK character then straddles its end.
    data = "通".encode("gbk") + b"a" * (SAMPLE_BYTES - 2) + "通知".encode("gbk")
    assert len(data) == SAMPLE_BYTES + 4
    assert decode_text(data, path="long.txt").text == "通" + "a" * (SAMPLE_BYTES - 2) + "通知"


def test_ascii_preamble_longer_than_the_sample():
    # With a plain first-bytes sample, only ASCII would be scored and "通知" (valid UTF-8!) misread.
    data = b"a" * (SAMPLE_BYTES + 10) + "通知".encode("gbk")
    d = decode_text(data, path="long.txt")
    assert (d.text[-2:], d.encoding) == ("通知", "gb18030")


def test_pure_ascii():
    d = decode_text(b"Article 1\r\nText", path="a.txt")
    assert (d.text, d.encoding, d.confidence, d.warnings) == ("Article 1\r\nText", "utf-8", 1.0, ())


def test_empty_bytes():
    with pytest.raises(EmptyDocumentError) as exc:
        decode_text(b"", path="e.txt")
    assert str(exc.value) == "e.txt: empty file (0 bytes)"


def test_nul_bytes_are_binary():
    with pytest.raises(InvalidFileError) as exc:
        decode_text("通知".encode("gbk") + b"\x00\x01\x02" * 10, path="b.txt")
    assert str(exc.value) == "b.txt: binary data, not text"


def test_control_characters_are_binary():
    with pytest.raises(InvalidFileError) as exc:
        decode_text(bytes(range(1, 256)) * 10, path="b.txt")
    assert str(exc.value) == "b.txt: binary data, not text"


def test_random_high_bytes_are_not_text():
    with pytest.raises(InvalidFileError) as exc:
        decode_text(bytes(range(0x80, 0x100)) * 20, path="b.txt")
    assert str(exc.value) == (
        "b.txt: not text in a known encoding (tried utf-8, gb18030, big5, cp950, big5hkscs)"
    )


def test_one_bad_byte_is_replaced_and_reported():
    data = "通知".encode("gbk") + b"\x80" + "关于开展直播电商活动的公告".encode("gbk")
    d = decode_text(data, path="d.txt")
    assert (d.text, d.encoding) == ("通知\ufffd关于开展直播电商活动的公告", "gb18030")
    assert d.warnings == ("1 undecodable byte sequences replaced with U+FFFD (gb18030)",)


def test_broken_utf8_after_bom_is_reported():
    d = decode_text(b"\xef\xbb\xbf" + "通知".encode() + b"\xff", path="d.txt")
    assert (d.text, d.encoding) == ("通知\ufffd", "utf-8-sig")
    assert d.warnings == ("1 undecodable byte sequences replaced with U+FFFD (utf-8-sig)",)


def test_declared_charset_is_used():
    d = decode_text("公告".encode("gbk"), path="p.html", declared="gb2312")
    assert (d.text, d.encoding, d.warnings) == ("公告", "gb18030", ())


def test_wrong_declared_charset_falls_back_to_scoring(shenzhen):
    d = decode_text(shenzhen.encode("gbk"), path="p.html", declared="utf-8")
    assert (d.text, d.encoding) == (shenzhen, "gb18030")
    assert d.warnings == ("declared charset utf-8 does not decode the file",)


def test_unknown_declared_charset(shenzhen):
    d = decode_text(shenzhen.encode("gbk"), path="p.html", declared="x-klingon")
    assert (d.text, d.encoding) == (shenzhen, "gb18030")
    assert d.warnings == ("unknown declared charset 'x-klingon'",)


def test_single_byte_declared_charset_contradicted_by_content(shenzhen):
    d = decode_text(shenzhen.encode("gbk"), path="p.html", declared="iso-8859-1")
    assert (d.text, d.encoding) == (shenzhen, "gb18030")
    assert d.warnings == ("declared charset iso-8859-1 contradicts the content",)


def test_normalize_newlines_changes_nothing_else():
    assert normalize_newlines("a\r\nb\rc\n\n　d \t\r\n") == "a\nb\nc\n\n　d \t\n"


def test_score_ranks_chinese_above_garbage(tw_act):
    data = tw_act.encode("big5")
    assert score_text(data.decode("big5")) > 0.9
    assert score_text(data.decode("gb18030")) < 0
    assert score_text("Article 1") == 1.0  # ASCII is neutral


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=400))
def test_any_bytes_decode_or_raise_an_ingest_error(data):
    try:
        d = decode_text(data, path="fuzz.txt")
    except IngestError:
        return
    assert 0.0 <= d.confidence <= 1.0 and d.encoding


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="gb18030", exclude_categories=("Cc", "Cs")), min_size=8, max_size=80)
)
def test_text_round_trips_through_utf8(text):
    # Valid UTF-8 with several multi-byte characters is never re-read as a legacy codec.
    data = text.encode("utf-8")
    if sum(ch >= "\x80" for ch in text) >= 8:
        assert decode_text(data, path="fuzz.txt").text == text


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.one_of(
            st.sampled_from("关于开展直播电商活动的公告，。消費者權益軇𠀀䶮豈⼈ā×①\ue000\ufffd"),
            st.characters(exclude_categories=("Cc", "Cs")),
        ),
        min_size=1,
        max_size=120,
    )
)
def test_clear_utf8_is_decoded_as_scoring_all_candidates_would(text):
    # The shortcut for a clear UTF-8 reading skips scoring the rivals: the result must be the same.
    from unittest import mock

    from policykb.ingest import decode

    data = text.encode("utf-8")
    try:
        fast = decode_text(data, path="fuzz.txt")
    except IngestError as exc:
        fast = exc  # type: ignore[assignment]
    with mock.patch.object(decode, "_clearly_utf8", return_value=False):
        try:
            slow = decode_text(data, path="fuzz.txt")
        except IngestError as exc:
            slow = exc  # type: ignore[assignment]
    assert repr(fast) == repr(slow)


def test_clear_utf8_shortcut_is_taken_for_a_notice(shenzhen):
    from policykb.ingest import decode

    assert decode._clearly_utf8(shenzhen.encode("utf-8"), True)
    assert not decode._clearly_utf8("通知".encode("gbk"), True)  # valid UTF-8, but too short to tell
