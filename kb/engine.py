"""The engine behind ``KnowledgeBase``: owns the embedder, Chroma, BM25 and the catalog.

The catalog and BM25 index it serves are one generation of the KB folder (``kb.generation``),
swapped as a whole when another process installs or publishes a newer one (``_refresh``).
"""
from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from ingest.model import Clause
from kb.api import DocumentInfo, Lookup, SearchFilters
from kb.build import Builder, IngestReport
from kb.catalog import Catalog
from kb.compose import compose_answer
from kb.embed_cache import CachedEmbedder
from kb.embeddings import load_embedder
from kb.followup import contextual_query, previous_answer
from kb.generation import CATALOG, LEXICAL, Manifest, stamp, verify
from kb.lexical import LexicalIndex
from kb.model import Answer, Hit
from kb.publish import SharedState
from kb.references import parse_references, resolve
from kb.refusal import RefusalPolicy
from kb.retrieve import HybridRetriever
from kb.settings import Settings
from kb.text import clean_question, fold_width, has_meaning, is_english
from kb.vectors import VectorIndex, VectorStoreUnavailable, collection_name

EMPTY_QUESTION = "请输入您的问题，例如：小微企业贷款难，有什么支持？"
NO_TEXT_QUESTION = "没有识别到文字内容，请用文字描述您的问题。"
NOT_BUILT = "知识库尚未建立，请先运行：python -m kb ingest"
DEGRADED = "语义检索暂不可用，问答暂时只按关键词检索："
log = logging.getLogger("kb")


class KnowledgeBaseNotReady(RuntimeError):
    pass


@dataclass(frozen=True)
class Generation:
    """One verified version of the KB folder, read as a whole: what every answer uses."""

    manifest: Manifest
    stamp: tuple | None       # the manifest's stat stamp when it was read
    catalog: Catalog
    lexical: LexicalIndex


class Engine:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.policy = RefusalPolicy()
        if settings.llm_base_url:  # a missing `llm` extra fails now, with the install command
            from kb.llm import require_client

            require_client()
        self._current: Generation | None = None
        self._retriever: HybridRetriever | None = None
        self._corpus_text: str | None = None
        self._lock = threading.RLock()
        self._refreshing = threading.Lock()
        self._next_check = 0.0
        self._refresh_error = ""

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

    @cached_property
    def shared_state(self) -> SharedState:
        return SharedState(self.vectors)

    @property
    def catalog(self) -> Catalog:
        return self._generation().catalog

    @property
    def corpus_text(self) -> str:
        if self._corpus_text is None:
            self._corpus_text = "\n".join(c.text for c in self.catalog.clauses)
        return self._corpus_text

    @property
    def retriever(self) -> HybridRetriever:
        current = self._generation()
        with self._lock:  # the app's first requests may arrive together
            if self._retriever is None:
                self._retriever = HybridRetriever(current.catalog, self.vectors, current.lexical, self.embedder)
            return self._retriever

    def _generation(self) -> Generation:
        self._maybe_refresh()
        if self._current is None:
            with self._lock:
                if self._current is None:
                    self._current = self._read_generation()
        return self._current

    def _read_generation(self) -> Generation:
        """The KB folder's generation, checked against its manifest; never a half-written one."""
        folder = self.settings.dir
        for _ in range(5):
            before = stamp(folder)
            manifest, problem = verify(folder, collection_name(self.embedder.name))
            if problem:
                raise KnowledgeBaseNotReady(f"知识库文件夹 {folder} 不完整或已损坏：{problem}。"
                                            "请运行 python -m kb ingest 重建。")
            if manifest is None or not LexicalIndex.is_current(folder / LEXICAL):
                raise KnowledgeBaseNotReady(NOT_BUILT)
            try:
                catalog, lexical = Catalog.load(folder / CATALOG), LexicalIndex.load(folder / LEXICAL)
            except (OSError, ValueError):   # another process is installing a generation right now
                time.sleep(0.2)
                continue
            if stamp(folder) == before and lexical.clause_ids == [c.id for c in catalog.clauses]:
                return Generation(manifest, before, catalog, lexical)
            time.sleep(0.2)
        raise KnowledgeBaseNotReady("知识库正在被另一个进程更新，请稍后再试。")

    # -- a newer generation from another process ----------------------------------------------
    def _maybe_refresh(self) -> None:
        """At most every ``sync_seconds``, look for a newer generation in the background (no answer waits)."""
        if self._current is None or time.monotonic() < self._next_check:
            return
        self._next_check = time.monotonic() + self.settings.sync_seconds
        if self._refreshing.acquire(blocking=False):
            threading.Thread(target=self._refresh, name="kb-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            self._take_newer_generation()
            self._refresh_error = ""
        except Exception as err:  # noqa: BLE001 - keep serving the current generation; retry later
            if str(err) != self._refresh_error:   # once per distinct failure, not every few seconds
                log.warning("检查知识库新版本失败，稍后重试：%s", err)
            self._refresh_error = str(err)
        finally:
            self._refreshing.release()

    def _take_newer_generation(self) -> None:
        current = self._current
        if self.settings.chroma_url:
            head = self.shared_state.head()
            if head is None or head.generation == current.manifest.generation:
                return
            self.shared_state.fetch(head, self.settings.dir)
        elif stamp(self.settings.dir) == current.stamp:
            return
        new = self._read_generation()
        if new.manifest.generation == current.manifest.generation:
            self._current = new   # same files, newer stamp
            return
        if not self.settings.chroma_url:
            self._reopen_vectors()   # an embedded Chroma only sees other processes' vectors when reopened
        retriever = HybridRetriever(new.catalog, self.vectors, new.lexical, self.embedder)
        with self._lock:
            self._current, self._retriever, self._corpus_text = new, retriever, None
        log.warning("已切换到另一进程导入的知识库版本 %s（%d 个条款）", new.manifest.generation,
                    len(new.catalog.clauses))

    def _reopen_vectors(self) -> None:
        old = self.__dict__.pop("vectors", None)
        self.__dict__.pop("shared_state", None)
        if old is not None:
            old.close()
        _ = self.vectors

    # -- operations ------------------------------------------------------------------------
    def open_index(self, progress: bool = True, on_progress=None) -> IngestReport | None:
        """At start: with a Chroma server, serve the generation it publishes when there is one
        (app processes are readers; ``python -m kb ingest`` is the writer); otherwise ingest."""
        if self.settings.chroma_url:
            head = self.shared_state.head()
            if head is not None and head.collection == self.vectors.name:
                local, problem = verify(self.settings.dir, head.collection)
                if problem:
                    log.warning("本地缓存 %s 已损坏（%s），重新从 Chroma 服务器获取。", self.settings.dir, problem)
                if local is None or local.generation != head.generation:
                    self.shared_state.fetch(head, self.settings.dir)
                self._forget()
                return None
        return self.ingest(progress=progress, on_progress=on_progress)

    def ingest(self, progress: bool = True, on_progress=None) -> IngestReport:
        builder = Builder(self.settings.dir, self.settings.sources, self.embedder, self._vectors_for_ingest(),
                          self.settings.source_limits)
        report, _ = builder.run(progress=progress, on_progress=on_progress)
        if self.settings.chroma_url:
            self._publish()
        self._forget()
        return report

    def _forget(self) -> None:
        with self._lock:   # the next call reads the generation now in the folder
            self._current, self._retriever, self._corpus_text = None, None, None

    def _publish(self) -> None:
        manifest, _ = verify(self.settings.dir, self.vectors.name)
        head = self.shared_state.head()
        if manifest is not None and (head is None or head.generation != manifest.generation):
            self.shared_state.publish(self.settings.dir, manifest)

    def _vectors_for_ingest(self) -> VectorIndex:
        """An embedded Chroma that cannot be opened (a corrupt database) is set aside and rebuilt."""
        try:
            return self.vectors
        except VectorStoreUnavailable as err:
            store = self.settings.dir / "chroma"
            if self.settings.chroma_url or not store.exists():
                raise
            broken = self.settings.dir / "chroma.broken"
            shutil.rmtree(broken, ignore_errors=True)
            store.rename(broken)
            log.warning("内置向量数据库 %s 已损坏、无法打开（%s），已移到 %s，正在重建。", store, err, broken)
            return self.vectors

    def answer(self, question: str, history: list[dict] | None = None, mode: str | None = None) -> Answer:
        """The extractive answer, or the verified LLM answer when an endpoint is configured
        (unless ``mode`` is "extractive")."""
        extractive = self.extractive_answer(question, history)
        if mode != "extractive" and self._use_llm(extractive):
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
        follow_up = query != q
        retrieval = self.retriever.retrieve(query, top_k=max(20, self.settings.top_k),
                                            focus=q if follow_up else None,
                                            previous=previous_answer(history) if follow_up else None)
        refuse = self.policy.should_refuse(retrieval, self.retriever.lexical, english, self.corpus_text)
        answer = compose_answer(q, retrieval, refuse, self.settings.top_k, english)
        answer.notices = notices + answer.notices + retrieval.notices
        answer.degraded = not retrieval.dense_available
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
        for piece in re.findall(r".+?(?:\[\d+\]|$|\n)", extractive.text, flags=re.DOTALL):
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
            current = self._generation()
            info["documents"] = len(current.catalog.documents)
            info["clauses"] = len(current.catalog.clauses)
            info["generation"] = current.manifest.generation
            info["vectors"] = self.vectors.count()
        except VectorStoreUnavailable as err:
            # Answers still come, from BM25 alone, once the retriever is loaded: say so.
            degraded = self._retriever is not None
            info.update(ok=False, degraded=degraded, error=f"{DEGRADED if degraded else ''}{err}")
        except KnowledgeBaseNotReady as err:
            info.update(ok=False, error=str(err))
        return info


def _passes(clause: Clause, filters: SearchFilters) -> bool:
    if filters.get("doc_title") and clause.doc_title != filters["doc_title"]:
        return False
    if filters.get("chapter") is not None and clause.chapter != filters["chapter"]:
        return False
    return True
