"""Answering a question, searching and looking clauses up, each over one ``Snapshot`` of the KB.

A thin orchestrator of the answer pipeline, each stage in its module:

    analyse (kb.query) → retrieve (kb.retrieve) → weigh sentences (kb.evidence)
        → judge answerability (kb.answerability) → compose (kb.compose)

It takes the snapshot once per request and passes it on, so every part of one answer reads the
same generation. ``explain`` returns every stage's record (what ``python -m eval.fit`` learns from).
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ingest.model import Clause
from kb.answerability import Judgement, judge
from kb.compose import compose_answer
from kb.evidence import Sentence, weigh
from kb.followup import contextual_text, leaning, previous_answer
from kb.model import Answer, DocumentInfo, Hit, Lookup, SearchFilters, Standing, StreamEvent
from kb.params import Params
from kb.query import Query, analyse
from kb.references import named_document, naming_words, parse_references, resolve
from kb.retrieve import Candidate, Retrieval
from kb.serving import Snapshot
from kb.settings import Settings
from kb.text import clean_question, fold_width, has_meaning
from kb.validity_step import ValiditySteps

EMPTY_QUESTION = "请输入您的问题，例如：小微企业贷款难，有什么支持？"
NO_TEXT_QUESTION = "没有识别到文字内容，请用文字描述您的问题。"


@dataclass
class Explanation:
    """Every stage's record for one question: what the answer was made from."""

    query: Query
    retrieval: Retrieval
    candidates: list[Candidate]     # after the sentence evidence re-ranked them
    sentences: list[Sentence]
    judgement: Judgement | None     # None for a lookup by reference
    answer: Answer


class Answerer:
    """``Answerer(settings, serving.snapshot).answer("第7条")``: each call takes one snapshot."""

    def __init__(self, settings: Settings, snapshot: Callable[[], Snapshot]):
        self.settings = settings
        self.snapshot = snapshot
        self.validity = ValiditySteps(settings.today)
        if settings.llm_base_url:  # a missing `llm` extra fails now, with the install command
            from kb.llm import require_client

            require_client()

    def answer(self, question: str, history: list[dict] | None = None, mode: str | None = None,
               as_of: str | None = None) -> Answer:
        """The extractive answer, or the verified LLM answer when an endpoint is configured
        (unless ``mode`` is "extractive"); ``as_of`` (YYYY-MM-DD) decides which documents are in
        force (default KB_TODAY, else today)."""
        day = self.validity.day(as_of)
        extractive, snap = self._extractive_as_of(question, history, day)
        if mode != "extractive" and self._use_llm(extractive):
            from kb.llm import llm_answer

            answer = llm_answer(self.settings, extractive.question, history, extractive.citations, extractive)
            return self.validity.after_composition(answer, snap.catalog, day, reorder=False)
        return extractive

    def answer_stream(self, question: str, history: list[dict] | None = None,
                      as_of: str | None = None) -> Iterator[StreamEvent]:
        day = self.validity.day(as_of)
        extractive, snap = self._extractive_as_of(question, history, day)
        if self._use_llm(extractive):
            from kb.llm import stream_llm_answer

            for event, value in stream_llm_answer(self.settings, extractive.question, history,
                                                  extractive.citations, extractive):
                if event == "answer":
                    value = self.validity.after_composition(value, snap.catalog, day, reorder=False)
                yield event, value
            return
        for piece in re.findall(r".+?(?:\[\d+\]|$|\n)", extractive.text, flags=re.DOTALL):
            yield "delta", piece
        yield "answer", extractive

    def _use_llm(self, extractive: Answer) -> bool:
        return bool(self.settings.llm_base_url and extractive.citations and not extractive.refused
                    and extractive.mode == "extractive")   # not a validity answer (mode "metadata")

    def _extractive_as_of(self, question: str, history: list[dict] | None, day) -> tuple[Answer, Snapshot]:
        """Validity around the pipeline (``kb.validity_step``): before retrieval, a question about
        validity is answered from the documents' dates; after composition, citations get their standing."""
        snap = self.snapshot()
        q, _ = clean_question(question, self.settings.max_question_chars)
        if q and has_meaning(q):
            found = self.validity.before_retrieval(q, history, snap.catalog, day, snap.retriever.lexicon)
            if found is not None:
                return found, snap
        composed = self.extractive_answer(question, history, snap)
        return self.validity.after_composition(composed, snap.catalog, day), snap

    def extractive_answer(self, question: str, history: list[dict] | None = None,
                          snapshot: Snapshot | None = None) -> Answer:
        return self.explain(question, history, snapshot).answer

    def explain(self, question: str, history: list[dict] | None = None, snapshot: Snapshot | None = None,
                params: Params | None = None, keep: int = 20) -> Explanation:
        """The answer with the record of every stage (``params`` overrides the fitted ones; ``keep``
        candidates are kept in the record, at least ``top_k``)."""
        started = time.perf_counter()
        q, notices = clean_question(question, self.settings.max_question_chars)
        snap = snapshot or self.snapshot()
        params = params or snap.retriever.params
        if not q or not has_meaning(q):
            empty = Answer(question, EMPTY_QUESTION if not q else NO_TEXT_QUESTION, True, [], notices=notices)
            query = self._analyse(snap, q, q)
            return Explanation(query, Retrieval(query, []), [], [], None, _timed(empty, started))
        lean = leaning(q, history, snap.retriever.lexicon)
        explained = self._run(snap, q, q, history, params, keep) if lean != "yes" else None
        if lean == "yes" or (lean == "maybe" and not (explained.judgement and explained.judgement.answerable)):
            explained = self._run(snap, contextual_text(q, history), q, history, params, keep)
        answer = explained.answer
        answer.notices = notices + answer.notices + explained.retrieval.notices
        answer.degraded = not explained.retrieval.dense_available
        if explained.retrieval.reference and explained.retrieval.reference.message:
            answer.notices.append(explained.retrieval.reference.message)
        _timed(answer, started)
        return explained

    def _analyse(self, snap: Snapshot, text: str, own: str) -> Query:
        lexicon = snap.retriever.lexicon
        named = named_document(own, snap.catalog.documents, lexicon)
        return analyse(text, snap.lexical.tokenizer, lexicon, snap.corpus, own=own,
                       naming=naming_words(own, named) if named else "")

    def _run(self, snap: Snapshot, text: str, own: str, history: list[dict] | None, params: Params,
             keep: int) -> Explanation:
        query = self._analyse(snap, text, own)
        retriever = snap.retriever
        previous = previous_answer(history) if text != own else None
        retrieval = retriever.retrieve(query, top_k=max(keep, self.settings.top_k), previous=previous, params=params)
        lookup = bool(retrieval.reference and retrieval.reference.clauses)
        candidates, sentences = weigh(retrieval, retriever, params)
        dense_top = retrieval.dense_top if retrieval.dense_available else None
        judgement = None if lookup else judge(query, candidates, sentences, dense_top, retriever, snap.corpus, params)
        hits = [Hit(snap.catalog.by_id[c.clause_id], c.score, c.found_by, c.window) for c in candidates]
        answer = compose_answer(query, hits, sentences, judgement, lookup, self.settings.top_k, params)
        return Explanation(query, retrieval, candidates, sentences, judgement, answer)

    def search(self, query: str, filters: SearchFilters, top_k: int) -> list[Hit]:
        """References and clauses holding every word first, then clauses found by meaning; each group
        in score order (one score, the ranking's), ``top_k`` at most."""
        q = query.strip()
        if not q:
            return []
        snap = self.snapshot()
        retrieval = snap.retriever.retrieve(self._analyse(snap, q, q), top_k=10_000)   # every candidate
        words = [fold_width(w).lower() for w in q.split() if w and len(w) <= 30]
        validity = self.validity.on(snap.catalog, self.validity.day(filters.get("as_of")))
        exact, by_meaning = [], []
        for h in snap.retriever.hits(retrieval, len(retrieval.candidates)):
            if not _passes(h.clause, filters):
                continue
            if filters.get("in_force") and not validity.is_in_force(h.clause):
                continue   # 「只看现行有效」
            if words and all(w in snap.retriever.clause_text(h.clause.id) for w in words):
                exact.append(Hit(h.clause, h.score, (*h.retrievers, "keyword"), h.window))
            elif "reference" in h.retrievers:
                exact.append(h)
            else:
                by_meaning.append(h)
        return (sorted(exact, key=lambda h: -h.score) + by_meaning)[:top_k]

    def lookup(self, ref: str, snapshot: Snapshot | None = None) -> Lookup:
        refs = parse_references(ref)
        if not refs:
            return Lookup([], f"「{ref}」不是条款引用。可用的写法如：第7条、专栏5、第二章第三节、中小企业促进法第十条。")
        snap = snapshot or self.snapshot()
        res = resolve(refs[0], snap.catalog, snap.retriever.lexicon)
        return Lookup(res.clauses, res.message, True)

    def clause(self, ref: str) -> Clause | None:
        snap = self.snapshot()
        if ref in snap.catalog.by_id:
            return snap.catalog.by_id[ref]
        found = self.lookup(ref, snap).clauses
        return found[0] if found else None

    def clauses(self, doc_title: str | None) -> list[Clause]:
        catalog = self.snapshot().catalog
        return catalog.of_document(doc_title) if doc_title else list(catalog.clauses)

    def documents(self, as_of: str | None = None) -> list[DocumentInfo]:
        catalog = self.snapshot().catalog
        validity = self.validity.on(catalog, self.validity.day(as_of))
        return [DocumentInfo(d.title, d.short_title, d.kind, d.issuer, d.date, d.clause_count,
                             d.source.rsplit("/", 1)[-1], d.ingested_at, d.key, d.dates,
                             validity.of_doc(d).standing) for d in catalog.documents]

    def standing(self, clause: Clause, as_of: str | None = None) -> Standing | None:
        """Whether the clause's document is in force on ``as_of`` (default KB_TODAY, else today)."""
        catalog = self.snapshot().catalog
        state = self.validity.on(catalog, self.validity.day(as_of)).of_clause(clause)
        return state.standing if state else None


def _timed(answer: Answer, started: float) -> Answer:
    answer.latency_ms = (time.perf_counter() - started) * 1000
    return answer


def _passes(clause: Clause, filters: SearchFilters) -> bool:
    if filters.get("doc_title") and clause.doc_title != filters["doc_title"]:
        return False
    if filters.get("chapter") is not None and clause.chapter != filters["chapter"]:
        return False
    return True
