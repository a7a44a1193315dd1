"""The extractive answer: the sentences that hold what is asked, best first, each verbatim with its
[n] marker — or a refusal that says what the documents do not hold.

- A factoid answer quotes at most two sentences, about ``quote_chars`` characters; a list question
  quotes its list (up to ``list_quote_chars``); a question in several parts takes the best sentence
  of each of the clauses it needs.
- A lookup by reference (「第7条」) begins with the clause's label and title, then quotes it from the top.
- Citations are the ranked clauses in score order; marker n points at the n-th.
"""
from __future__ import annotations

import re

from ingest.citation import division_path
from ingest.model import Clause
from ingest.numerals import int_to_cn_numeral
from kb.answerability import Judgement, gap_notice
from kb.evidence import Sentence
from kb.model import REFUSAL, REFUSAL_EN, Answer, Citation, Hit
from kb.params import Params
from kb.query import Query, Term
from kb.retrieve import coverage
from kb.sentences import clause_sentences, lead_in
from kb.text import fold_width, split_sentences

QUOTED_IN_CHINESE = "The answer quotes the Chinese source text; see the cited clauses."
REFUSAL_NEAREST = "以下条款可能相关，仅供参考。"
REFUSAL_NEAREST_EN = "The clauses below may be related; they do not answer the question."
REFERENCE_QUOTE_CHARS = 600
MULTI_PART_CLAUSES = 3
MULTI_PART_SENTENCES = 3
LIST_SENTENCES = 8    # a list is often one measure per sentence (「在以色列建设…；在日本建设…」)


def short_label(clause: Clause) -> str:
    """What a lookup answer opens with: 第7条「完善融资机制」, 专栏5「…」, 第十条, 前言 (each a part of
    the clause's full citation label)."""
    if clause.kind == "item":
        return f"第{clause.item}条「{clause.title}」"
    if clause.kind == "box":
        return f"专栏{clause.box}「{clause.title}」"
    if clause.kind == "article":
        return f"第{int_to_cn_numeral(clause.article)}条"
    if clause.kind == "preface":
        return clause.title
    head = division_path(clause.chapter, clause.section)
    return f"{head}「{clause.title}」" if clause.title else head


def quote_clause(text: str, title: str, limit: int = REFERENCE_QUOTE_CHARS) -> list[str]:
    """The clause from the top, up to ``limit`` characters, without the bare title sentence.
    Paragraph (款) and table-row breaks are kept: each returned piece ends its line with "\\n"."""
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


def citations(hits: list[Hit], supporting: dict[str, tuple[str, ...]], top_k: int) -> list[Citation]:
    """The ranked clauses in score order (at least every quoted one), marker n for the n-th."""
    quoted = [i for i, h in enumerate(hits) if h.clause.id in supporting]
    n = max(top_k, (max(quoted) + 1) if quoted else 0)
    return [Citation(i + 1, h.clause, h.score, supporting.get(h.clause.id, ())) for i, h in enumerate(hits[:n])]


def refusal(query: Query, hits: list[Hit], judgement: Judgement | None, top_k: int) -> Answer:
    gap = gap_notice(judgement, query.english) if judgement else None
    base = REFUSAL_EN if query.english else REFUSAL
    nearest = REFUSAL_NEAREST_EN if query.english else REFUSAL_NEAREST
    text = f"{gap}{' ' if query.english else ''}{base}" if gap else base
    if hits:
        text = f"{text}{' ' if query.english else ''}{nearest}"
    return Answer(query.own, text, True, citations(hits, {}, top_k))


def lookup_answer(query: Query, hits: list[Hit], top_k: int) -> Answer:
    """A clause looked up by reference is what the user wants to read: its label, then the clause."""
    clause = hits[0].clause
    quoted = quote_clause(clause.text, clause.title)
    text = f"{short_label(clause)}：" + "".join(quoted).rstrip("\n") + "[1]"
    return Answer(query.own, text, False, citations(hits, {clause.id: tuple(p.strip() for p in quoted)}, top_k))


def choose_sentences(query: Query, hits: list[Hit], sentences: list[Sentence], params: Params) -> list[Sentence]:
    """The sentences to quote, best first (see the module docstring for the limits)."""
    if not sentences:
        return []
    rank = {h.clause.id: i for i, h in enumerate(hits)}
    pool = [s for s in sentences if s.clause_id in rank]
    if not pool:
        return []
    if query.multi_part:
        near = [s for s in pool if rank[s.clause_id] < MULTI_PART_CLAUSES] or pool[:1]
        parts = question_parts(query)
        if len(parts) > 1:
            return _per_part(query, parts, near)
        # 「国务院条例和青岛市条例分别怎么表述」: one question over several clauses, the best sentence of each
        chosen, seen = [], set()
        for s in near:
            if s.clause_id not in seen and s.probability >= params.second_sentence * near[0].probability:
                chosen.append(s)
                seen.add(s.clause_id)
        return chosen
    first = pool[0]
    chosen, length = [first], len(first.text)
    budget = params.list_quote_chars if query.wants_list else params.quote_chars
    most = LIST_SENTENCES if query.wants_list else 2
    for s in pool[1:]:
        if len(chosen) >= most or s.probability < params.second_sentence * first.probability:
            break
        if length + len(s.text) <= budget:
            chosen.append(s)
            length += len(s.text)
    return _with_its_item(chosen, pool, most)


def _per_part(query: Query, parts: list[list[Term]], pool: list[Sentence]) -> list[Sentence]:
    """A question in several parts (「多少天内必须付？逾期利息怎么算？」): for each part, the sentence
    not yet chosen that holds most of that part's words (the likelier one on a tie), in order."""
    chosen: list[Sentence] = []
    for part in parts:
        scored = [(coverage(query, fold_width(s.text).lower(), part), s.probability, -i)
                  for i, s in enumerate(pool) if s not in chosen]
        if scored and max(scored)[0] > 0:
            chosen.append(pool[-max(scored)[2]])
    return chosen[:MULTI_PART_SENTENCES] or pool[:1]


def question_parts(query: Query) -> list[list[Term]]:
    """The content words of each part of the question (split at question marks and semicolons)."""
    terms = query.content_terms()
    parts = []
    for piece in re.split(r"[？?；;]", query.own):
        words = [t for t in terms if t.text in piece.lower()]
        if words:
            parts.append(words)
    return parts


def _with_its_item(chosen: list[Sentence], pool: list[Sentence], most: int) -> list[Sentence]:
    """A sentence that introduces a list (「有下列情形之一的，可以给予奖励：」) says nothing by itself:
    the best item after it in its clause is quoted next, in the second sentence's place."""
    first = chosen[0]
    if not first.text.rstrip().endswith(("：", ":")):
        return chosen
    items = [s for s in pool if s.clause_id == first.clause_id and s.index > first.index]
    if not items or items[0] in chosen[1:2]:
        return chosen
    return [first, items[0], *[s for s in chosen[1:] if s is not items[0]]][:max(most, 2)]


def quote(chosen: list[Sentence], hits: list[Hit], question: str) -> tuple[str, dict[str, tuple[str, ...]]]:
    """The answer text (each sentence with its clause's marker) and the sentences quoted per clause.
    A lead-in the question already names (「市北区。」 when asked about 市北区) is left out, so the
    answer opens with what it says; one the question does not name is the answer, and stays."""
    marker = {h.clause.id: i + 1 for i, h in enumerate(hits)}
    parts, supporting = [], {}
    for s in chosen:
        lead = lead_in(s.text)
        label = lead.rstrip("。.：:；; ")
        text = s.text[len(lead):] if label and fold_width(label) in fold_width(question) else s.text
        parts.append(f"{text}[{marker[s.clause_id]}]")
        supporting[s.clause_id] = supporting.get(s.clause_id, ()) + (text,)
    return "\n".join(parts), supporting


def compose_answer(query: Query, hits: list[Hit], sentences: list[Sentence], judgement: Judgement | None,
                   is_lookup: bool, top_k: int, params: Params) -> Answer:
    if is_lookup and hits:
        return lookup_answer(query, hits, top_k)
    if not hits or (judgement is not None and not judgement.answerable):
        return refusal(query, hits, judgement, top_k)
    chosen = choose_sentences(query, hits, sentences, params)
    if not chosen:   # a clause without sentence evidence (no sentences weighed): its opening
        clause = hits[0].clause
        first = clause_sentences(clause.text)[:1] or [(clause.text, 0)]
        chosen = [Sentence(clause.id, first[0][0], first[0][1], 0, {}, 0.0)]
    text, supporting = quote(chosen, hits, query.text)
    notices = [QUOTED_IN_CHINESE] if query.english else []
    return Answer(query.own, text, False, citations(hits, supporting, top_k), notices=notices)
