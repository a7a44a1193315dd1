"""The engine behind ``KnowledgeBase``: owns the embedder, Chroma, BM25 and the catalog."""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from functools import cached_property

from ingest.model import Clause
from kb.api import DocumentInfo, Lookup, SearchFilters
from kb.build import Builder, IngestReport
from kb.catalog import Catalog
from kb.compose import compose_answer
from kb.embed_cache import CachedEmbedder
from kb.embeddings import load_embedder
from kb.followup import contextual_query
from kb.lexical import LexicalIndex
from kb.model import Answer, Hit
from kb.references import parse_references, resolve
from kb.refusal import RefusalPolicy
from kb.retrieve import HybridRetriever
from kb.settings import Settings
from kb.text import clean_question, fold_width, has_meaning, is_english
from kb.vectors import VectorIndex, VectorStoreUnavailable

EMPTY_QUESTION = "请输入您的问题，例如：小微企业贷款难，有什么支持？"
NO_TEXT_QUESTION = "没有识别到文字内容，请用文字描述您的问题。"
NOT_BUILT = "知识库尚未建立，请先运行：python -m kb ingest"


class KnowledgeBaseNotReady(RuntimeError):
    pass


class Engine:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.policy = RefusalPolicy()
        if settings.llm_base_url:  # a missing `llm` extra fails now, with the install command
            from kb.llm import require_client

            require_client()
        self._catalog: Catalog | None = None
        self._retriever: HybridRetriever | None = None
        self._corpus_text: str | None = None
        self._lock = threading.RLock()

    # -- components, loaded on first use --------------------------------------------------
    @cached_property
    def embedder(self) -> CachedEmbedder:
        return CachedEmbedder(load_embedder(self.settings.embed_model), self.settings.embed_cache_path)

    @cached_property
    def vectors(self) -> VectorIndex:
        return VectorIndex(self.settings.dir, self.embedder.name, self.settings.chroma_url)

    @property
    def embed_model_name(self) -> str:
        return self.settings.embed_model

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            path = self.settings.dir / "catalog.json"
            if not path.exists():
                raise KnowledgeBaseNotReady(NOT_BUILT)
            self._catalog = Catalog.load(path)
        return self._catalog

    @property
    def corpus_text(self) -> str:
        if self._corpus_text is None:
            self._corpus_text = "\n".join(c.text for c in self.catalog.clauses)
        return self._corpus_text

    @property
    def retriever(self) -> HybridRetriever:
        with self._lock:  # the app's first requests may arrive together
            if self._retriever is None:
                self._retriever = self._load_retriever()
        return self._retriever

    def _load_retriever(self) -> HybridRetriever:
        catalog, folder = self.catalog, self.settings.dir / "lexical"
        if not LexicalIndex.is_current(folder):
            raise KnowledgeBaseNotReady(NOT_BUILT)
        return HybridRetriever(catalog, self.vectors, LexicalIndex.load(folder), self.embedder)

    # -- operations ------------------------------------------------------------------------
    def ingest(self, progress: bool = True, on_progress=None) -> IngestReport:
        builder = Builder(self.settings.dir, self.settings.sources, self.embedder, self.vectors,
                          self.settings.source_limits)
        report, catalog = builder.run(progress=progress, on_progress=on_progress)
        self._catalog, self._retriever, self._corpus_text = catalog, None, None
        return report

    def answer(self, question: str, history: list[dict] | None = None) -> Answer:
        """The extractive answer, or the verified LLM answer when an endpoint is configured."""
        extractive = self.extractive_answer(question, history)
        if self._use_llm(extractive):
            from kb.llm import llm_answer

            return llm_answer(self.settings, extractive.question, history, extractive.citations, extractive)
        return extractive

    def _use_llm(self, extractive: Answer) -> bool:
        return bool(self.settings.llm_base_url and extractive.citations and not extractive.refused)

    def extractive_answer(self, question: str, history: list[dict] | None = None) -> Answer:
        started = time.perf_counter()
        q, notices = clean_question(question, self.settings.max_question_chars)
        if not q or not has_meaning(q):
            return Answer(question, EMPTY_QUESTION if not q else NO_TEXT_QUESTION, True, [],
                          notices=notices, latency_ms=(time.perf_counter() - started) * 1000)
        english = is_english(q)
        query = contextual_query(q, history)
        retrieval = self.retriever.retrieve(query, top_k=max(20, self.settings.top_k),
                                            focus=q if query != q else None)
        refuse = self.policy.should_refuse(retrieval, self.retriever.lexical, english, self.corpus_text)
        answer = compose_answer(q, retrieval, refuse, self.settings.top_k, english)
        answer.notices = notices + answer.notices + retrieval.notices
        if retrieval.reference and retrieval.reference.message:
            answer.notices.append(retrieval.reference.message)
        answer.latency_ms = (time.perf_counter() - started) * 1000
        return answer

    def answer_stream(self, question: str, history: list[dict] | None = None) -> Iterator[tuple[str, object]]:
        extractive = self.extractive_answer(question, history)
        if self._use_llm(extractive):
            from kb.llm import stream_llm_answer

            yield from stream_llm_answer(self.settings, extractive.question, history,
                                         extractive.citations, extractive)
            return
        for piece in re.findall(r".+?(?:\[\d+\]|$|\n)", extractive.text, flags=re.S):
            yield "delta", piece
        yield "answer", extractive

    def search(self, query: str, filters: SearchFilters, top_k: int) -> list[Hit]:
        q = query.strip()
        if not q:
            return []
        hits: list[Hit] = []
        for ref in parse_references(q)[:1]:
            hits += [Hit(c, 2.0, ("reference",)) for c in resolve(ref, self.catalog).clauses]
        hits += self._keyword_hits(q)
        hits += self.retriever.retrieve(q, top_k=top_k).hits
        out, seen = [], set()
        for h in hits:
            if h.clause.id in seen or not _passes(h.clause, filters):
                continue
            seen.add(h.clause.id)
            out.append(h)
        return out[:max(top_k, sum(1 for h in out if "keyword" in h.retrievers or "reference" in h.retrievers))]

    def _keyword_hits(self, query: str) -> list[Hit]:
        """Every clause that contains all the words, most mentions first (what officials search for)."""
        words = [fold_width(w) for w in query.split() if w]
        if not words or any(len(w) > 30 for w in words):
            return []
        found = []
        for c in self.catalog.clauses:
            text = fold_width(f"{c.title}\n{c.text}")
            if all(w in text for w in words):
                found.append(Hit(c, float(sum(text.count(w) for w in words)), ("keyword",)))
        return sorted(found, key=lambda h: -h.score)

    def lookup(self, ref: str) -> Lookup:
        refs = parse_references(ref)
        if not refs:
            return Lookup([], f"「{ref}」不是条款引用。可用的写法如：第7条、专栏5、第二章第三节、中小企业促进法第十条。")
        res = resolve(refs[0], self.catalog)
        return Lookup(res.clauses, res.message, True)

    def clause(self, ref: str) -> Clause | None:
        if ref in self.catalog.by_id:
            return self.catalog.by_id[ref]
        found = self.lookup(ref).clauses
        return found[0] if found else None

    def clauses(self, doc_title: str | None) -> list[Clause]:
        return self.catalog.of_document(doc_title) if doc_title else list(self.catalog.clauses)

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(d.title, d.short_title, d.kind, d.issuer, d.date, d.clause_count,
                             d.source.rsplit("/", 1)[-1], d.ingested_at) for d in self.catalog.documents]

    def health(self) -> dict:
        info = {"ok": True, "error": None, "vector_store": self.settings.chroma_url or "embedded",
                "embedding_model": self.settings.embed_model}
        try:
            info["documents"] = len(self.catalog.documents)
            info["clauses"] = len(self.catalog.clauses)
            info["vectors"] = self.vectors.count()
        except (VectorStoreUnavailable, KnowledgeBaseNotReady) as err:
            info.update(ok=False, error=str(err))
        return info


def _passes(clause: Clause, filters: SearchFilters) -> bool:
    if filters.get("doc_title") and clause.doc_title != filters["doc_title"]:
        return False
    if filters.get("chapter") is not None and clause.chapter != filters["chapter"]:
        return False
    return True
