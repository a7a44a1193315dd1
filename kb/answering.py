"""Answering a question, searching and looking clauses up, each over one ``Snapshot`` of the KB.

A thin orchestrator: retrieval (``kb.retrieve``), refusal (``kb.refusal``) and composition
(``kb.compose``) do the work; this module takes the snapshot once per request and passes it on,
so every part of one answer reads the same generation.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

from ingest.model import Clause
from kb.compose import compose_answer
from kb.followup import contextual_query, previous_answer
from kb.model import Answer, DocumentInfo, Hit, Lookup, SearchFilters, StreamEvent
from kb.references import parse_references, resolve
from kb.refusal import RefusalPolicy
from kb.serving import Snapshot
from kb.settings import Settings
from kb.text import clean_question, fold_width, has_meaning, is_english

EMPTY_QUESTION = "请输入您的问题，例如：小微企业贷款难，有什么支持？"
NO_TEXT_QUESTION = "没有识别到文字内容，请用文字描述您的问题。"


class Answerer:
    """``Answerer(settings, serving.snapshot).answer("第7条")``: each call takes one snapshot."""

    def __init__(self, settings: Settings, snapshot: Callable[[], Snapshot]):
        self.settings = settings
        self.snapshot = snapshot
        self.policy = RefusalPolicy()
        if settings.llm_base_url:  # a missing `llm` extra fails now, with the install command
            from kb.llm import require_client

            require_client()

    def answer(self, question: str, history: list[dict] | None = None, mode: str | None = None) -> Answer:
        """The extractive answer, or the verified LLM answer when an endpoint is configured
        (unless ``mode`` is "extractive")."""
        extractive = self.extractive_answer(question, history)
        if mode != "extractive" and self._use_llm(extractive):
            from kb.llm import llm_answer

            return llm_answer(self.settings, extractive.question, history, extractive.citations, extractive)
        return extractive

    def answer_stream(self, question: str, history: list[dict] | None = None) -> Iterator[StreamEvent]:
        extractive = self.extractive_answer(question, history)
        if self._use_llm(extractive):
            from kb.llm import stream_llm_answer

            yield from stream_llm_answer(self.settings, extractive.question, history,
                                         extractive.citations, extractive)
            return
        for piece in re.findall(r".+?(?:\[\d+\]|$|\n)", extractive.text, flags=re.DOTALL):
            yield "delta", piece
        yield "answer", extractive

    def _use_llm(self, extractive: Answer) -> bool:
        return bool(self.settings.llm_base_url and extractive.citations and not extractive.refused)

    def extractive_answer(self, question: str, history: list[dict] | None = None,
                          snapshot: Snapshot | None = None) -> Answer:
        started = time.perf_counter()
        q, notices = clean_question(question, self.settings.max_question_chars)
        if not q or not has_meaning(q):
            return Answer(question, EMPTY_QUESTION if not q else NO_TEXT_QUESTION, True, [],
                          notices=notices, latency_ms=(time.perf_counter() - started) * 1000)
        snap = snapshot or self.snapshot()
        english = is_english(q)
        query = contextual_query(q, history)
        follow_up = query != q
        retrieval = snap.retriever.retrieve(query, top_k=max(20, self.settings.top_k),
                                            focus=q if follow_up else None,
                                            previous=previous_answer(history) if follow_up else None)
        refuse = self.policy.should_refuse(retrieval, snap.lexical, english, snap.corpus_text)
        answer = compose_answer(q, retrieval, refuse, self.settings.top_k, english)
        answer.notices = notices + answer.notices + retrieval.notices
        answer.degraded = not retrieval.dense_available
        if retrieval.reference and retrieval.reference.message:
            answer.notices.append(retrieval.reference.message)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def search(self, query: str, filters: SearchFilters, top_k: int) -> list[Hit]:
        q = query.strip()
        if not q:
            return []
        snap = self.snapshot()
        hits: list[Hit] = []
        for ref in parse_references(q)[:1]:
            hits += [Hit(c, 2.0, ("reference",)) for c in resolve(ref, snap.catalog).clauses]
        hits += _keyword_hits(snap, q)
        hits += snap.retriever.retrieve(q, top_k=top_k).hits
        out, seen = [], set()
        for h in hits:
            if h.clause.id in seen or not _passes(h.clause, filters):
                continue
            seen.add(h.clause.id)
            out.append(h)
        return out[:max(top_k, sum(1 for h in out if "keyword" in h.retrievers or "reference" in h.retrievers))]

    def lookup(self, ref: str, snapshot: Snapshot | None = None) -> Lookup:
        refs = parse_references(ref)
        if not refs:
            return Lookup([], f"「{ref}」不是条款引用。可用的写法如：第7条、专栏5、第二章第三节、中小企业促进法第十条。")
        res = resolve(refs[0], (snapshot or self.snapshot()).catalog)
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

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(d.title, d.short_title, d.kind, d.issuer, d.date, d.clause_count,
                             d.source.rsplit("/", 1)[-1], d.ingested_at) for d in self.snapshot().catalog.documents]


def _keyword_hits(snap: Snapshot, query: str) -> list[Hit]:
    """Every clause that contains all the words, most mentions first (what officials search for)."""
    words = [fold_width(w) for w in query.split() if w]
    if not words or any(len(w) > 30 for w in words):
        return []
    found = []
    for c in snap.catalog.clauses:
        text = fold_width(f"{c.title}\n{c.text}")
        if all(w in text for w in words):
            found.append(Hit(c, float(sum(text.count(w) for w in words)), ("keyword",)))
    return sorted(found, key=lambda h: -h.score)


def _passes(clause: Clause, filters: SearchFilters) -> bool:
    if filters.get("doc_title") and clause.doc_title != filters["doc_title"]:
        return False
    if filters.get("chapter") is not None and clause.chapter != filters["chapter"]:
        return False
    return True
