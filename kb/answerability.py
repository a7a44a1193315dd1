"""Does the evidence answer the question? Refuse when the best clauses do not hold what it asks.

A question is answerable when its best clauses contain what it asks about: its focus (the
words next to the question word: 「起征点是多少」), its other specific words, the kind of
value it asks for (多少钱 → an amount), the place it asks about. A logistic model over
``kb.params.ANSWERABILITY_FEATURES``, fitted on the dev split (answerable vs unanswerable,
most of them near-misses: in-domain words, the asked thing absent), turns that evidence into a
probability; below ``refuse_below`` the answer is a refusal that names what was not found.
"""
from __future__ import annotations

from dataclasses import dataclass

from kb.evidence import Sentence
from kb.params import Params
from kb.query import CorpusStats, Query, Term
from kb.retrieve import Candidate, HybridRetriever, coverage, term_coverage
from kb.text import fold_width, has_cjk

EVIDENCE_CLAUSES = 3     # the best clauses whose text is the evidence
COVERED = 0.5            # a word at least this covered counts as found


@dataclass(frozen=True)
class Judgement:
    answerable: bool
    probability: float
    features: dict[str, float]
    missing: list[str]          # what was not found, in the question's words (most telling first)
    missing_type: str | None    # the kind of value asked for and not found (「具体金额」), if any


def judge(query: Query, candidates: list[Candidate], sentences: list[Sentence], dense_top: float | None,
          retriever: HybridRetriever, corpus: CorpusStats, params: Params) -> Judgement:
    """``dense_top`` is None while the vector store is down: the fitted mean stands in for it."""
    evidence = "\n".join(retriever.clause_text(c.clause_id) for c in candidates[:EVIDENCE_CLAUSES])
    terms = checkable_terms(query)
    cover = {t.position: term_coverage(t.text, evidence, query) for t in terms}
    focus = [t for t in terms if t.focus]
    others = [t for t in terms if not t.focus and t.asking]
    scene = [t for t in terms if not t.asking]
    elsewhere = [p for p in query.elsewhere if p not in evidence]
    missing_type = _missing_type(query, terms, sentences, candidates[:EVIDENCE_CLAUSES])
    focus_type = _focus_type_missing(query, focus, sentences, candidates[:EVIDENCE_CLAUSES])
    scores = [c.score for c in candidates[:2]] + [0.0, 0.0]
    features = {
        "dense_top": dense_top if dense_top is not None else params.answerable_means.get("dense_top", 0.0),
        "sentence_top": max((s.probability for s in sentences), default=0.0),
        "sentence_dense": max((s.features.get("dense_raw", 0.0) for s in sentences), default=0.0),
        "coverage_top": coverage(query, evidence, terms),
        "sentence_joint": _joint(query, sentences, {c.clause_id for c in candidates[:EVIDENCE_CLAUSES]}),
        "score_top": scores[0],
        "score_margin": scores[0] - scores[1],
        "focus_missing": max((t.specificity * (1 - cover[t.position]) for t in focus), default=0.0),
        "no_focus": float(not focus),
        "missing": _missing(others, cover),
        "absent_words": _absent(focus + others, cover),
        "absent_common": _absent([t for t in focus + others if t.common], cover),
        "scene_missing": _missing(scene, cover),
        "scene_absent": _absent(scene, cover),
        "type_missing": float(missing_type is not None),
        "focus_type_missing": float(focus_type),
        "elsewhere": float(bool(elsewhere)),
        "unknown_period": float(any(not corpus.contains(p) for p in query.periods)),
        "english": float(query.english),
    }
    probability = params.answerable_probability(features)
    uncovered = sorted((t for t in terms if cover[t.position] < COVERED),
                       key=lambda t: (not t.focus, not t.asking, t.common, t.in_corpus, -t.specificity, t.position))
    places = [retriever.lexicon.place_in_english(p) for p in elsewhere] if query.english else elsewhere
    missing = places + [n for n in query.focus_phrases(uncovered) if n not in elsewhere]
    label = None
    if missing_type is None and focus_type:
        missing_type = query.asked_types[0]
    if missing_type is not None:
        label = missing_type.label_en if query.english else missing_type.label
    return Judgement(probability >= params.refuse_below, probability, features, missing[:2], label)


def _missing(terms: list[Term], cover: dict[int, float]) -> float:
    return sum(t.specificity * (1 - cover[t.position]) for t in terms)


def _absent(terms: list[Term], cover: dict[int, float]) -> float:
    return float(sum(1 for t in terms if not t.in_corpus and cover[t.position] < 1))


def _joint(query: Query, sentences: list[Sentence], ids: set[str]) -> float:
    """The best sentence's coverage of the question, counted only when it holds the kind of value
    asked for: the question's words and its answer together, in one sentence."""
    kinds = query.asked_types
    best = 0.0
    for s in sentences:
        if s.clause_id in ids and all(t.held_by(s.text) for t in kinds):
            best = max(best, s.features.get("coverage", 0.0))
    return best


def checkable_terms(query: Query) -> list[Term]:
    """The content words whose presence the Chinese evidence can show: an English word that no
    clause holds and no glossary entry (kb/lexicon/english.toml) maps to an official term is
    neither found nor missing, only untranslated ("days", "roles")."""
    terms = query.content_terms()
    if not query.english:
        return terms
    return [t for t in terms if t.in_corpus or has_cjk(t.text) or query.implied_by(t.text)]


def _missing_type(query: Query, terms: list[Term], sentences: list[Sentence], top: list[Candidate]):
    """The first asked kind of value that no sentence of the best clauses holds next to one of the
    question's words (「本条例自2020年1月1日起施行」 is a date, but not the date of an annual report)."""
    ids = {c.clause_id for c in top}
    pool = [(s, fold_width(s.text).lower()) for s in sentences if s.clause_id in ids]
    for answer_type in query.asked_types:
        if not any(answer_type.held_by(s.text) and (not terms or any(term_coverage(t.text, text, query) >= 1
                                                                         for t in terms))
                   for s, text in pool):
            return answer_type
    return None


def _focus_type_missing(query: Query, focus: list[Term], sentences: list[Sentence], top: list[Candidate]) -> bool:
    """The question asks for kinds of value, and no sentence of the best clauses holds them all
    together with every focus word (「价格扣除比例是百分之几」: a rate, next to 价格扣除)."""
    if not query.asked_types:
        return False
    ids = {c.clause_id for c in top}
    for s in sentences:
        if s.clause_id in ids and all(t.held_by(s.text) for t in query.asked_types):
            text = fold_width(s.text).lower()
            if all(term_coverage(t.text, text, query) >= COVERED for t in focus):
                return False
    return True


def gap_notice(judgement: Judgement, english: bool) -> str | None:
    """The line that says what the documents do not hold (for a refusal, or a partly covered answer)."""
    if judgement.missing:
        names = "、".join(f"“{m}”" for m in judgement.missing)
        if english:
            return f"The documents do not mention {', '.join(repr(m) for m in judgement.missing)}."
        return f"现有文件未涉及{names}。"
    if judgement.missing_type:
        if english:
            return f"The documents do not give {judgement.missing_type}."
        return f"现有文件未给出{judgement.missing_type}。"
    return None
