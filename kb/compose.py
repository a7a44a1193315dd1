"""The extractive answer: the few sentences of the top clauses that answer the question, each
followed by its citation marker, numbers verbatim from the source — or the fixed refusal.
"""
from __future__ import annotations

import re

from kb.model import REFUSAL, REFUSAL_EN, Answer, Citation, Hit
from kb.retrieve import Retrieval
from kb.text import split_sentences

_QUANTITY = re.compile(r"多少|几|比例|比重|占比|目标|达到|增长|数量|金额|期限|天|时间|多久|多长|百分|%|％|"
                       r"how many|how much|how long|percent|target|number|deadline|days", re.IGNORECASE)
_DIGIT = re.compile(r"\d|[一二三四五六七八九十百千万]+(个|家|天|日|年|条|项|户|亿|万)")
QUOTED_IN_CHINESE = "The answer quotes the Chinese source text; see the cited clauses."
MAX_SENTENCES = 3
MIN_SENTENCE_CHARS = 8
# 「…分别…」「…？…？」: the answer needs several clauses, so more of the ranking is quoted.
_MULTI_PART = re.compile(r"分别|各自|各是|各有|各讲|两者|两条|哪两|又是|又有|[？?].+[？?]|both|respectively",
                         re.IGNORECASE)
MULTI_RATIO = 0.6
REFERENCE_QUOTE_CHARS = 600
SECONDARY_RATIO = 0.8   # a second clause is cited when its score is this close to the best


def _sentence_score(sentence: str, tokens: list[str], wants_number: bool, window: str | None) -> float:
    score = sum(len(t) for t in set(tokens) if t in sentence)
    if wants_number and _DIGIT.search(sentence):
        score += 2.0
    if window and sentence in window:
        score += 1.5
    return score


def answer_sentences(text: str) -> list[tuple[str, int]]:
    """Candidate sentences of a clause with their line number. A bare lead-in (「南村镇。」) says
    nothing alone, so it is joined to the sentence after it on the same line (still a verbatim span)."""
    out: list[tuple[str, int]] = []
    for line_no, line in enumerate(text.splitlines()):
        carry = ""
        for sentence in split_sentences(line):
            if len(sentence) < MIN_SENTENCE_CHARS:
                carry += sentence
                continue
            out.append((carry + sentence, line_no))
            carry = ""
    return out


def join_sentences(chosen: list[tuple[str, int]]) -> str:
    """Sentences of one line run on; a new line of the clause (款, table row) starts a new line."""
    out = ""
    for i, (sentence, line_no) in enumerate(chosen):
        if i and line_no != chosen[i - 1][1]:
            out += "\n"
        out += sentence
    return out


def pick_sentences(text: str, tokens: list[str], question: str, window: str | None,
                   limit: int = MAX_SENTENCES) -> list[tuple[str, int]]:
    """The best sentences of one clause (with their line numbers), in reading order."""
    sentences = answer_sentences(text)
    if not sentences:
        return [(s, 0) for s in split_sentences(text)[:1]]
    wants_number = bool(_QUANTITY.search(question))
    scored = [(_sentence_score(s, tokens, wants_number, window), i) for i, (s, _) in enumerate(sentences)]
    best = sorted((x for x in scored if x[0] > 0), key=lambda x: (-x[0], x[1]))[:limit]
    if not best:  # nothing overlaps: the clause's opening says what it is about
        best = [(0.0, 0)]
    return [sentences[i] for _, i in sorted(best, key=lambda x: x[1])]


def quote_clause(text: str, title: str, limit: int = REFERENCE_QUOTE_CHARS) -> list[str]:
    """The clause from the top, up to ``limit`` characters, without the bare title sentence.
    Paragraph (款) and table-row breaks are kept: each returned piece ends its line with "\n"."""
    pieces, length = [], 0
    for line in text.splitlines():
        sentences = split_sentences(line)
        if not pieces and len(sentences) > 1 and sentences[0].rstrip("。") == title:
            sentences = sentences[1:]
        for sentence in sentences:
            if pieces and length + len(sentence) > limit:
                return _end_line(pieces)
            pieces.append(sentence)
            length += len(sentence)
        pieces = _end_line(pieces)
    return _end_line(pieces)


def _end_line(pieces: list[str]) -> list[str]:
    if pieces and not pieces[-1].endswith("\n"):
        pieces[-1] += "\n"
    return pieces


def citations_for(hits: list[Hit], cited: list[Hit], top_k: int) -> list[Citation]:
    """Cited clauses first (markers 1..n), then the rest of the ranking, at least ``top_k`` in all."""
    order = cited + [h for h in hits if h not in cited]
    return [Citation(marker=i + 1, clause=h.clause, score=h.score) for i, h in enumerate(order[:max(top_k, len(cited))])]


def compose_answer(question: str, retrieval: Retrieval, refused: bool, top_k: int, english: bool) -> Answer:
    hits = retrieval.hits
    if refused or not hits:
        text = REFUSAL_EN if english else REFUSAL
        return Answer(question, text, True, citations_for(hits, [], top_k))
    if retrieval.reference and retrieval.reference.clauses:
        # A clause looked up by reference is what the user wants to read: quote it, from the top.
        clause = hits[0].clause
        quoted = quote_clause(clause.text, clause.title)
        supporting = tuple(p.strip() for p in quoted)
        citations = [Citation(c.marker, c.clause, c.score, supporting if c.clause.id == clause.id else ())
                     for c in citations_for(hits, [hits[0]], top_k)]
        return Answer(question, "".join(quoted).rstrip("\n") + "[1]", False, citations)
    best = hits[0].score
    terms = retrieval.answer_terms
    if _MULTI_PART.search(question):
        cited = [hits[0]] + [h for h in hits[1:3] if h.score >= best * MULTI_RATIO]
        limits = [2] * len(cited)
    else:
        cited = [hits[0]] + [h for h in hits[1:3] if h.score >= best * SECONDARY_RATIO and _shares_tokens(h, terms)]
        limits = [MAX_SENTENCES if len(cited) == 1 else 2] + [1] * (len(cited) - 1)
    parts, supporting = [], {}
    for n, (hit, limit) in enumerate(zip(cited, limits), start=1):
        chosen = pick_sentences(hit.clause.text, terms, retrieval.query, hit.window, limit)
        supporting[hit.clause.id] = tuple(sentence for sentence, _ in chosen)
        parts.append(join_sentences(chosen) + f"[{n}]")
    citations = [Citation(c.marker, c.clause, c.score, supporting.get(c.clause.id, ()))
                 for c in citations_for(hits, cited, top_k)]
    notices = [QUOTED_IN_CHINESE] if english else []
    return Answer(question, "\n".join(parts), False, citations, notices=notices)


def _shares_tokens(hit: Hit, tokens: list[str]) -> bool:
    return sum(1 for t in set(tokens) if t in hit.clause.text) >= 2
