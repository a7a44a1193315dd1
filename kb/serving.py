"""Which generation of the knowledge base a process serves, and how it is refreshed, published and rebuilt.

A ``Snapshot`` is one verified generation (catalog, BM25 index, retriever, corpus text), immutable:
a request takes one with ``Serving.snapshot()`` and uses it from start to end, so a background
swap to a newer generation (another process ingested, or published to the Chroma server) can
never mix two versions in one answer.
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
from dataclasses import dataclass
from functools import cached_property

from kb.build import Builder, IngestReport
from kb.catalog import Catalog
from kb.embed_cache import CachedEmbedder
from kb.embeddings import load_embedder
from kb.generation import CATALOG, LEXICAL, Manifest, stamp, verify
from kb.lexical import LexicalIndex
from kb.lexicon import load_lexicon
from kb.params import load_params
from kb.publish import SharedState
from kb.query import CorpusStats
from kb.retrieve import HybridRetriever
from kb.settings import Settings
from kb.vectors import VectorIndex, VectorStoreUnavailable, collection_name

NOT_BUILT = "知识库尚未建立，请先运行：python -m kb ingest"
DEGRADED = "语义检索暂不可用，问答暂时只按关键词检索："
log = logging.getLogger("kb")


class KnowledgeBaseNotReady(RuntimeError):
    """There is no whole generation to serve; the message says what to run."""


@dataclass(frozen=True)
class Snapshot:
    """One verified generation of the KB folder, read as a whole: everything one request uses."""

    manifest: Manifest
    stamp: tuple | None       # the manifest's stat stamp when it was read
    catalog: Catalog
    lexical: LexicalIndex
    retriever: HybridRetriever

    @cached_property
    def corpus(self) -> CorpusStats:
        """Which words occur in which clauses (what a question's words tell, and whether they occur at all)."""
        return CorpusStats([f"{c.title}\n{c.text}" for c in self.catalog.clauses], self.lexical.doc_freq)


class Serving:
    """Owns the embedder, the vector index and the generation served; ``snapshot()`` is the one way in."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._current: Snapshot | None = None
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

    @cached_property
    def shared_state(self) -> SharedState:
        return SharedState(self.vectors)

    # -- the generation served --------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The generation to use for one whole request (and, at most every ``sync_seconds``, a
        background look for a newer one, which no request waits for)."""
        self._maybe_refresh()
        current = self._current
        if current is None:
            with self._lock:   # the app's first requests may arrive together
                if self._current is None:
                    self._current = self._read_snapshot()
                current = self._current
        return current

    def loaded(self) -> bool:
        """A generation is in memory (answers can come from BM25 even when the vectors cannot)."""
        return self._current is not None

    def _read_snapshot(self) -> Snapshot:
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
                retriever = HybridRetriever(catalog, self.vectors, lexical, self.embedder,
                                            load_lexicon(self.settings.lexicon_dir), load_params(self.settings.params_file))
                return Snapshot(manifest, before, catalog, lexical, retriever)
            time.sleep(0.2)
        raise KnowledgeBaseNotReady("知识库正在被另一个进程更新，请稍后再试。")

    def _forget(self) -> None:
        with self._lock:   # the next request reads the generation now in the folder
            self._current = None

    # -- a newer generation from another process ----------------------------------------------
    def _maybe_refresh(self) -> None:
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
        new = self._read_snapshot()
        if new.manifest.generation != current.manifest.generation and not self.settings.chroma_url:
            # An embedded Chroma only sees other processes' vectors when reopened (on its next use).
            self.vectors.close()
        with self._lock:
            self._current = new
        if new.manifest.generation != current.manifest.generation:
            log.warning("已切换到另一进程导入的知识库版本 %s（%d 个条款）", new.manifest.generation,
                        len(new.catalog.clauses))

    # -- writing ---------------------------------------------------------------------------
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

    def _publish(self) -> None:
        manifest, _ = verify(self.settings.dir, self.vectors.name)
        head = self.shared_state.head()
        if manifest is not None and (head is None or head.generation != manifest.generation):
            self.shared_state.publish(self.settings.dir, manifest)

    def _vectors_for_ingest(self) -> VectorIndex:
        """An embedded Chroma that cannot be opened (a corrupt database) is set aside and rebuilt."""
        try:
            self.vectors.connect()
            return self.vectors
        except VectorStoreUnavailable as err:
            store = self.settings.dir / "chroma"
            if self.settings.chroma_url or not store.exists():
                raise
            self.vectors.close()
            broken = self.settings.dir / "chroma.broken"
            shutil.rmtree(broken, ignore_errors=True)
            store.rename(broken)
            log.warning("内置向量数据库 %s 已损坏、无法打开（%s），已移到 %s，正在重建。", store, err, broken)
            self.vectors.connect()
            return self.vectors

    def close(self) -> None:
        """Release the vector store's client (a later call reconnects)."""
        if "vectors" in self.__dict__:
            self.vectors.close()

    # -- health --------------------------------------------------------------------------------
    def health(self) -> dict:
        info = {"ok": True, "error": None, "vector_store": self.settings.chroma_url or "embedded",
                "embedding_model": self.settings.embed_model}
        try:
            current = self.snapshot()
            info["documents"] = len(current.catalog.documents)
            info["clauses"] = len(current.catalog.clauses)
            info["generation"] = current.manifest.generation
            info["vectors"] = self.vectors.count()
        except VectorStoreUnavailable as err:
            # Answers still come, from BM25 alone, once a generation is loaded: say so.
            degraded = self.loaded()
            info.update(ok=False, degraded=degraded, error=f"{DEGRADED if degraded else ''}{err}")
        except KnowledgeBaseNotReady as err:
            info.update(ok=False, error=str(err))
        return info
