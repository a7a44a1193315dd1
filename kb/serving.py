"""Which generation of the knowledge base a process serves, and how it is refreshed, published and rebuilt.

A ``Snapshot`` is one verified generation (catalog, BM25 index, retriever, corpus text), immutable:
a request takes one with ``Serving.snapshot()`` and uses it from start to end, so a background
swap to a newer generation (another process ingested, or published to the Chroma server) can
never mix two versions in one answer.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from kb.build import IngestReport
from kb.catalog import Catalog
from kb.embed_cache import CachedEmbedder
from kb.embeddings import load_embedder
from kb.generation import (
    CATALOG,
    LEXICAL,
    SENTENCES,
    Manifest,
    read_manifest,
    stamp,
    verify,
)
from kb.lexical import LexicalIndex
from kb.lexicon import load_lexicon
from kb.locks import FolderLock, live
from kb.params import load_params
from kb.publish import SharedState
from kb.query import CorpusStats
from kb.retrieve import HybridRetriever
from kb.sentences import SentenceVectors
from kb.settings import Settings
from kb.source_set import FileHashes, SourceListing, inferred_sources, survey
from kb.vectors import VectorIndex, VectorStoreUnavailable, collection_name

NOT_BUILT = "知识库尚未建立，请先运行：python -m kb ingest"
DEGRADED = "语义检索暂不可用，问答暂时只按关键词检索："
SHORTFALL = ("向量数据库中只有 {count} 个向量，而当前知识库版本需要 {expected} 个（Chroma 服务器可能重启后丢失了数据）。"
             "请在存放来源文件的机器上运行 python -m kb ingest 重新发布（向量来自嵌入缓存，几秒即可）。"
             "The vector store holds {count} of the {expected} vectors this version needs: run python -m kb ingest.")
NOTHING_PUBLISHED = ("Chroma 服务器上没有已发布的知识库版本（服务器可能重启后丢失了数据）：先按本地缓存的版本只用关键词回答。"
                     "请运行 python -m kb ingest 重新发布。The Chroma server has no published version: "
                     "serving the cached one by keywords; run python -m kb ingest.")
WAIT_SECONDS = 5.0            # an app with nothing cached retries an unreachable server this often
SOURCE_CHECK_SECONDS = 10.0   # how often (at most) a reader compares the sources on disk with its generation
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
        self._hashes = FileHashes()
        self._report: tuple | None = None

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
            if manifest is None or not _derived_current(folder):
                raise KnowledgeBaseNotReady(NOT_BUILT)
            try:
                catalog, lexical = Catalog.load(folder / CATALOG), LexicalIndex.load(folder / LEXICAL)
                sentences = SentenceVectors.load(folder / SENTENCES)
            except (OSError, ValueError):   # another process is installing a generation right now
                time.sleep(0.2)
                continue
            if stamp(folder) == before and lexical.clause_ids == [c.id for c in catalog.clauses]:
                retriever = HybridRetriever(catalog, self.vectors, lexical, self.embedder,
                                            load_lexicon(self.settings.lexicon_dir), load_params(self.settings.params_file),
                                            sentences, self.settings.query_cache)
                return Snapshot(manifest, before, catalog, lexical, retriever)
            time.sleep(0.2)
        raise KnowledgeBaseNotReady("知识库正在被另一个进程更新，请稍后再试。")

    def reload(self) -> None:
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
        """Swap in a generation another process installed or published; then check the vectors."""
        current = self._current
        if self.settings.chroma_url:
            head = self.shared_state.head()
            if head is not None and head.collection == self.vectors.name and \
                    head.generation != current.manifest.generation:
                self.shared_state.fetch(head, self.settings.dir)
                self._swap(current)
        elif stamp(self.settings.dir) != current.stamp:
            self._swap(current)
        self.check_vectors(self._current)
        self.source_report()

    def _swap(self, current: Snapshot) -> None:
        new = self._read_snapshot()
        if new.manifest.generation != current.manifest.generation and not self.settings.chroma_url:
            # An embedded Chroma only sees other processes' vectors when reopened (on its next use).
            self.vectors.close()
        with self._lock:
            self._current = new
        if new.manifest.generation != current.manifest.generation:
            log.warning("已切换到另一进程导入的知识库版本 %s（%d 个条款）", new.manifest.generation,
                        len(new.catalog.clauses))

    # -- opening -------------------------------------------------------------------------------
    def open_index(self, progress: bool = True, on_progress=None, wait: bool = False) -> IngestReport | None:
        """At start, serve what is there; build only a KB that has no generation yet (from the
        defaults) or a damaged one (from the sources it remembers). Never changes the set of sources.
        ``wait``: with a Chroma server that cannot be reached and nothing cached, retry until it can."""
        if self.settings.chroma_url:
            return self._open_shared(progress, on_progress, wait)
        if self._servable_here() or (FolderLock.held(self.settings.dir) and self._cached_generation()):
            # (a writer at work: serve what is there, it swaps in when the writer finishes)
            self.reload()
            self.snapshot()
            self.source_report()   # logs files that vanished or changed since the ingest
            return None
        return self.writer.ingest(progress=progress, on_progress=on_progress)

    def _servable_here(self) -> bool:
        """The folder verifies and the embedded Chroma holds every vector it expects."""
        if not self._cached_generation():
            return False
        try:
            return self.vectors.count() == read_manifest(self.settings.dir).unit_count
        except VectorStoreUnavailable:
            return False

    def _cached_generation(self) -> bool:
        manifest, problem = verify(self.settings.dir, self.vectors.name)
        return manifest is not None and not problem and _derived_current(self.settings.dir)

    def _open_shared(self, progress: bool, on_progress, wait: bool) -> IngestReport | None:
        said = ""
        while True:
            try:
                head = self.shared_state.head()
                break
            except VectorStoreUnavailable as err:
                if self._cached_generation():
                    log.warning("Chroma 服务器暂不可用：先按本地缓存的知识库版本只用关键词回答，服务器恢复后自动恢复。%s", err)
                    self.reload()
                    return None
                if not wait:
                    raise
                if str(err) != said:
                    log.warning("%s 本地没有缓存的知识库版本，每 %.0f 秒重试一次… Waiting for the Chroma server…",
                                err, WAIT_SECONDS)
                    said = str(err)
                time.sleep(WAIT_SECONDS)
        if head is not None and head.collection == self.vectors.name:
            local, problem = verify(self.settings.dir, head.collection)
            if problem:
                log.warning("本地缓存 %s 已损坏（%s），重新从 Chroma 服务器获取。", self.settings.dir, problem)
            if local is None or local.generation != head.generation:
                self.shared_state.fetch(head, self.settings.dir)
            self.reload()
            return None
        if self._cached_generation():   # the server restarted empty, or lost its state: serve, report
            log.warning(NOTHING_PUBLISHED)
            self.reload()
            return None
        return self.writer.ingest(progress=progress, on_progress=on_progress)   # a new deployment

    @cached_property
    def writer(self):
        from kb.writer import Writer

        return Writer(self)

    def close(self) -> None:
        """Release the vector store's client (a later call reconnects)."""
        if "vectors" in self.__dict__:
            self.vectors.close()

    # -- vectors and sources, as readers see them ------------------------------------------------
    def check_vectors(self, current: Snapshot) -> int:
        """The collection's vector count; fewer than the generation needs (a server restarted empty)
        while no ingest runs makes answers use keywords alone, saying why."""
        count = self.vectors.count()
        expected = current.manifest.unit_count
        if count < expected and not self._writer_active():
            self.vectors.shortfall = SHORTFALL.format(count=count, expected=expected)
        else:
            self.vectors.shortfall = None
        return count

    def _writer_active(self) -> bool:
        if not self.settings.chroma_url:
            return FolderLock.held(self.settings.dir)
        return live(self.shared_state.lease() or {})

    def source_states(self) -> SourceListing:
        """The remembered sources and how each file on disk compares with what was ingested."""
        sources = self.writer.remembered()
        manifest = self.writer.published() or read_manifest(self.settings.dir)
        roots = survey(sources or [], manifest.files if manifest else {}, self._hashes)
        return SourceListing(sources, roots, manifest.host if manifest else "")

    def source_report(self) -> dict | None:
        """Files missing on disk, changed, or new since the ingest (logged when that changes), or None
        where the sources are not on this machine (an app reading a Chroma server's generation)."""
        current = self._current
        if current is None or (self.settings.chroma_url and current.manifest.host != socket.gethostname()):
            return None
        key = (current.manifest.generation, int(time.monotonic() // SOURCE_CHECK_SECONDS))
        if self._report and self._report[0] == key:
            return self._report[1]
        roots = current.manifest.sources or current.catalog.sources or \
            inferred_sources(current.catalog.documents, self.settings.sources)
        try:
            states = survey(roots, current.manifest.files, self._hashes)
        except OSError as err:   # a source folder that cannot be listed: report that, serve on
            log.warning("无法检查来源文件：%s", err)
            return None
        report = {state: [f.path for r in states for f in r.files if f.state == state]
                  for state in ("missing", "changed", "new")}
        if not self._report or self._report[1] != report:
            for path in report["missing"]:
                log.warning("来源文件 %s 已从磁盘消失：其内容仍在提供，运行 python -m kb ingest 确认删除。", path)
            for path in report["changed"]:
                log.warning("来源文件 %s 在导入后已修改：仍按导入时的内容回答，运行 python -m kb ingest 更新。", path)
        self._report = (key, report)
        return report

    # -- health --------------------------------------------------------------------------------
    def health(self) -> dict:
        info = {"ok": True, "error": None, "vector_store": self.settings.chroma_url or "embedded",
                "embedding_model": self.settings.embed_model}
        try:
            current = self.snapshot()
            info["documents"] = len(current.catalog.documents)
            info["clauses"] = len(current.catalog.clauses)
            info["generation"] = current.manifest.generation
            info["vectors"] = self.check_vectors(current)
            if self.vectors.shortfall:
                info.update(ok=False, degraded=True, error=f"{DEGRADED}{self.vectors.shortfall}")
        except VectorStoreUnavailable as err:
            # Answers still come, from BM25 alone, once a generation is loaded: say so.
            degraded = self.loaded()
            info.update(ok=False, degraded=degraded, error=f"{DEGRADED if degraded else ''}{err}")
        except KnowledgeBaseNotReady as err:
            info.update(ok=False, error=str(err))
        report = self.source_report()
        if report:
            info["sources"] = report
            info["warnings"] = source_warnings(report)
        return info


def source_warnings(report: dict) -> list[str]:
    """One sentence per kind of difference between the sources on disk and what is served."""
    out = []
    if report["missing"]:
        out.append(f"{len(report['missing'])} 个来源文件已从磁盘消失，其内容仍在提供；运行 python -m kb ingest 确认删除。"
                   f"{len(report['missing'])} source file(s) vanished from disk and are still served.")
    if report["changed"]:
        out.append(f"{len(report['changed'])} 个来源文件在导入后已修改，仍按导入时的内容回答；运行 python -m kb ingest 更新。"
                   f"{len(report['changed'])} source file(s) changed since the ingest.")
    if report["new"]:
        out.append(f"来源文件夹中有 {len(report['new'])} 个新文件尚未导入；运行 python -m kb ingest 导入。"
                   f"{len(report['new'])} new file(s) not ingested yet.")
    return out


def _derived_current(folder: Path) -> bool:
    """The BM25 index and the sentence vectors were written by this version's recipes."""
    return LexicalIndex.is_current(folder / LEXICAL) and SentenceVectors.is_current(folder / SENTENCES)
