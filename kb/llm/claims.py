"""What a sentence asserts that can be checked against a source, and whether a source holds it.

Checked facts are numbers (Arabic, or Chinese numerals with a unit: 二十个, 百分之三十),
percentages, quoted terms (“政采贷”), titles (《…》) and Latin acronyms (RCEP, 5G). Wording is
checked as the share of the sentence's Chinese character pairs found in the source — a wrong
source shares only boilerplate such as 企业 and 中小.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ingest.numerals import CN_NUMERAL_CHARS, cn_numeral_to_int

# The share of a Chinese sentence's character pairs its sources must contain. Faithful
# paraphrases of these policy texts keep most of the wording (0.5–0.9); a sentence citing the
# wrong clause shares 0.1–0.2.
MIN_OVERLAP = 0.3

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?%?")
_CN_PERCENT = re.compile(rf"百分之([{CN_NUMERAL_CHARS}]+)")
# A Chinese numeral counts as a number only before a unit (二十个, 十条); 一批, 十强, 三审合一 are words.
_CN_QUANTITY = re.compile(
    rf"([{CN_NUMERAL_CHARS}]{{1,8}})(?=个|家|件|条|项|年|月|日|天|元|倍|人|户|名|所|类|章|节|款|小时|万|亿)"
)
_QUOTED = re.compile(r"[“\"「『‘]([^“”\"「」『』‘’\n]{1,40})[”\"」』’]")
_TITLE = re.compile(r"《([^《》\n]{1,60})》")
_LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+&]*")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*•·]+|\d{1,2}[.、)）]|[（(]\d{1,2}[)）]|[（(]?[一二三四五六七八九十]{1,3}[)）、])\s*")
_IGNORED_IN_MATCH = re.compile(r"[\s“”‘’\"'「」『』《》]")


def normalize(text: str) -> str:
    """Full-width to half-width (３０％ → 30%), lower case, no spaces or quote marks: the form compared."""
    return _IGNORED_IN_MATCH.sub("", unicodedata.normalize("NFKC", text)).lower()


def _canonical_number(token: str) -> str:
    pct = token.endswith("%")
    digits = token.rstrip("%").replace(",", "")
    if "." in digits:
        digits = digits.rstrip("0").rstrip(".")
    digits = digits.lstrip("0") or "0"
    if digits.startswith("."):
        digits = "0" + digits
    return digits + ("%" if pct else "")


def numbers_in(text: str) -> set[str]:
    """Canonical numbers of a text: '30%', '0.5', '2025', and Chinese quantities ('二十个' → '20')."""
    text = unicodedata.normalize("NFKC", text)
    out = {_canonical_number(t) for t in _NUMBER.findall(text)}
    for pattern, suffix in ((_CN_PERCENT, "%"), (_CN_QUANTITY, "")):
        for numeral in pattern.findall(text):
            if numeral == "一" and not suffix:   # 一个环节, 一家企业: an article, not a count
                continue
            try:
                value = cn_numeral_to_int(numeral)
            except ValueError:
                continue
            if value:   # a bare 万 (as in 200万元) parses as 0
                out.add(f"{value}{suffix}")
    return out


def _number_supported(number: str, source_numbers: set[str]) -> bool:
    # "30" is backed by "30%" in the source; "30%" needs the percentage itself.
    return number in source_numbers or (not number.endswith("%") and f"{number}%" in source_numbers)


def _acronyms(text: str) -> set[str]:
    out = set()
    for token in _LATIN.findall(unicodedata.normalize("NFKC", text)):
        uppers = sum(ch.isupper() for ch in token)
        if uppers >= 2 or (uppers == 1 and token[0].isdigit()):   # RCEP, APP, VR, 5G
            out.add(token)
    return out


def cjk_bigrams(text: str) -> set[str]:
    return {run[i:i + 2] for run in _CJK_RUN.findall(text) for i in range(len(run) - 1)}


@dataclass(frozen=True)
class Claims:
    """The checkable content of one answer sentence (markers already removed)."""

    numbers: frozenset[str]
    terms: frozenset[str]       # quoted terms and titles, normalized
    acronyms: frozenset[str]
    bigrams: frozenset[str]
    chinese: bool               # wording is compared only for Chinese sentences

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(sorted(self.numbers)) + tuple(sorted(self.terms)) + tuple(sorted(self.acronyms))


def claims_of(sentence: str) -> Claims:
    body = _LIST_PREFIX.sub("", sentence)
    titles = {normalize(t) for t in _TITLE.findall(body)}
    quoted = {normalize(t) for t in _QUOTED.findall(body)}
    cjk = sum(len(r) for r in _CJK_RUN.findall(body))
    latin = sum(len(t) for t in re.findall(r"[A-Za-z]+", body))
    return Claims(
        numbers=frozenset(numbers_in(body)),
        terms=frozenset(t for t in titles | quoted if t),
        acronyms=frozenset(a.lower() for a in _acronyms(body)),
        bigrams=frozenset(cjk_bigrams(unicodedata.normalize("NFKC", body))),
        chinese=cjk >= latin,
    )


@dataclass(frozen=True)
class SourceFacts:
    """A source prepared once for many checks."""

    norm: str
    numbers: frozenset[str]
    bigrams: frozenset[str]

    @classmethod
    def of(cls, text: str, wording: str | None = None) -> SourceFacts:
        """Facts from ``text``; wording from ``wording`` (default the same) — the verifier passes
        the clause text alone, so the document title every source shares cannot lend overlap."""
        folded = unicodedata.normalize("NFKC", text if wording is None else wording)
        return cls(normalize(text), frozenset(numbers_in(text)), frozenset(cjk_bigrams(folded)))


def holds(fact_kind: str, fact: str, source: SourceFacts) -> bool:
    if fact_kind == "number":
        return _number_supported(fact, set(source.numbers))
    return fact in source.norm


def _facts(claims: Claims, in_any: list[SourceFacts] | None) -> list[tuple[str, str]]:
    """(kind, fact) pairs to check. In an English sentence, quoted Latin terms and acronyms are
    translations nobody can check against Chinese sources, so only those that some given source
    contains are held to the cited one (``in_any``)."""
    facts = [("number", n) for n in claims.numbers]
    for kind, values in (("term", claims.terms), ("acronym", claims.acronyms)):
        for v in values:
            if claims.chinese or re.search(r"[\u3400-\u9fff]", v) or (
                in_any is not None and any(v in s.norm for s in in_any)
            ):
                facts.append((kind, v))
    return facts


def missing_facts(claims: Claims, sources: list[SourceFacts], all_sources: list[SourceFacts]) -> list[str]:
    """Facts of the sentence that none of ``sources`` contains."""
    return [f for kind, f in _facts(claims, all_sources) if not any(holds(kind, f, s) for s in sources)]


def overlap(claims: Claims, sources: list[SourceFacts]) -> float:
    """Share of the sentence's Chinese character pairs found in the sources (1.0 when not comparable)."""
    if not claims.chinese or len(claims.bigrams) < 4:
        return 1.0
    found = set().union(*(s.bigrams for s in sources)) if sources else set()
    return len(claims.bigrams & found) / len(claims.bigrams)


def supports(claims: Claims, sources: list[SourceFacts], all_sources: list[SourceFacts]) -> bool:
    """All facts appear in the sources, and (for Chinese) enough of the wording does."""
    return bool(sources) and not missing_facts(claims, sources, all_sources) and overlap(claims, sources) >= MIN_OVERLAP


def contributes(claims: Claims, source: SourceFacts, all_sources: list[SourceFacts]) -> bool:
    """Whether one of several cited sources backs any part of the sentence (else its marker goes)."""
    facts = _facts(claims, all_sources)
    if any(holds(kind, f, source) for kind, f in facts):
        return True
    if not claims.chinese or len(claims.bigrams) < 4:
        return not facts
    return overlap(claims, [source]) >= MIN_OVERLAP / 2
