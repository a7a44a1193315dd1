"""When to refuse: no clause carries the answer.

Signals, calibrated on the dev split of eval/gold.jsonl (unanswerable vs answerable questions):
- topic: the best dense similarity of e5-small (its cosines are compressed into ~0.75–0.95;
  a cross-lingual English question scores lower than a Chinese one, so it has its own floor);
- vocabulary: most of the question's words occur in no clause at all (recipes, weather);
- a year the documents never mention (「2030年的目标」 in a plan that runs to 2025);
- a place the documents never mention (「在香港开公司」): their rules do not reach it;
- answer type: a question that asks for an amount of money, a rate, a date or a phone number
  needs a value of that kind in a sentence about the question, in the best clauses on topic — in-domain questions the documents
  do not cover (a subsidy amount, a bank's interest rate) fail here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.answer_types import asked_types, has_value
from kb.lexical import LexicalIndex
from kb.query_terms import JURISDICTIONS
from kb.retrieve import Retrieval
from kb.text import split_sentences

# Types whose absence from the best clauses means the documents do not say (a duration or a
# count can be phrased too many ways to refuse on).
REFUSING_TYPES = ("money", "rate", "date", "phone")
_JURISDICTION_WORD = re.compile("|".join(f"(?:{cue})" for cue in JURISDICTIONS.values()))
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
# Provinces, large cities and economies people compare Qingdao with.
PLACES = re.compile("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|河南|湖北|湖南|广东|"
                    "海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门|深圳|广州|杭州|"
                    "南京|苏州|武汉|成都|西安|济南|烟台|威海|潍坊|大连|厦门|宁波|美国|英国|德国|法国|新加坡|澳大利亚|加拿大")


@dataclass(frozen=True)
class RefusalPolicy:
    min_dense: float = 0.861         # Chinese questions: below this cosine nothing is on topic
    min_dense_english: float = 0.758  # English questions against Chinese text score lower
    unknown_words: float = 0.6       # share of the question's words no clause uses …
    unknown_words_dense: float = 0.872  # … refuses unless the dense match is this strong
    evidence_clauses: int = 2        # answer-type evidence is looked for in this many top clauses

    def should_refuse(self, r: Retrieval, lexical: LexicalIndex, english: bool, corpus_text: str) -> bool:
        if r.reference and r.reference.clauses:
            return False
        if not r.hits:
            return True
        if r.dense_available:
            if r.dense_top < (self.min_dense_english if english else self.min_dense):
                return True
            share = unknown_share(r, lexical)
            if not english and share >= self.unknown_words and r.dense_top < self.unknown_words_dense:
                return True
            # 「明天青岛天气怎么样」: nothing asked about occurs in any clause, and no official term is
            # implied (借钱 → 融资), so a near-threshold dense match is only the place name talking.
            if not english and share >= 1.0 and not (set(r.answer_terms) - set(r.raw_tokens)):
                return True
        elif not r.query_tokens:
            return True
        if any(lexical.doc_freq.get(m.group(0), 0) == 0 for m in _YEAR.finditer(r.query)):
            return True
        if any(m.group(0) not in corpus_text for m in PLACES.finditer(r.query)):
            return True
        # Judged on the ranking before it favoured clauses holding such values, or it would find one.
        return not answer_type_present(r.query, [c.text for c in r.topical[:self.evidence_clauses]],
                                       r.query_tokens)


def unknown_share(r: Retrieval, lexical: LexicalIndex) -> float:
    """Share of the question's content words that no clause uses; place words (青岛, 省里) say
    where, not what, so they count for neither side."""
    words = {w for w in r.raw_tokens if not _JURISDICTION_WORD.fullmatch(w)}
    if not words:
        return 1.0
    return sum(1 for w in words if lexical.doc_freq.get(w, 0) == 0) / len(words)


def answer_type_present(question: str, evidence: list[str], terms: list[str]) -> bool:
    """False when the question asks for a kind of value that no evidence sentence about the
    question holds: the value must sit in a sentence that shares one of the question's words
    (「本条例自2020年1月1日起施行」 is a date, but not the date of an annual report)."""
    words = {t for t in terms if len(t) >= 2}
    sentences = [s for text in evidence for s in split_sentences(text)]
    for answer_type in asked_types(question):
        if answer_type.name not in REFUSING_TYPES:
            continue
        if not any(has_value(s, answer_type) and (not words or any(w in s for w in words)) for s in sentences):
            return False
    return True
