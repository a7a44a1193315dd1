"""``python -m kb ingest`` and ``python -m kb gc``: the only code that changes a knowledge base.

One writer at a time (``kb.locks``). An ingest uses the remembered sources unless it is given
others, prints its plan first, and with a Chroma server starts from the published generation
and publishes the new one last. Readers (``kb.serving``) call it only to build a KB that has
no generation yet, or to rebuild a damaged one from the sources it remembers.
"""
from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kb.build import Builder, IngestReport
from kb.generation import read_manifest, verify
from kb.locks import WriterBusy, writer_lock
from kb.publish import HEAD
from kb.source_set import (
    IngestPlan,
    default_sources,
    given_sources,
    plan_ingest,
    remembered_sources,
)
from kb.vectors import VectorIndex, VectorStoreUnavailable

if TYPE_CHECKING:
    from kb.serving import Serving

log = logging.getLogger("kb")


class NothingPublished(RuntimeError):
    """``kb gc`` would leave readers nothing to serve."""


class Writer:
    def __init__(self, serving: Serving):
        self.serving = serving
        self.settings = serving.settings
        self.kb_dir = serving.settings.dir

    # -- which sources ------------------------------------------------------------------------
    def remembered(self) -> list[str] | None:
        """The set this KB remembers (with a Chroma server: the published one); None for a new KB."""
        head = self.published()
        if head is not None and head.sources:
            return list(head.sources)
        return remembered_sources(self.kb_dir, self.settings.sources)

    def published(self):
        """The Chroma server's head for this collection (None without a server, or when it has none)."""
        if not self.settings.chroma_url:
            return None
        head = self.serving.shared_state.head()
        return head if head is not None and head.collection == self.serving.vectors.name else None

    def plan(self, sources: list[Path] | None = None) -> IngestPlan:
        """What an ingest with these ``--source`` paths (None: the remembered set) would do."""
        previous = self.remembered()
        target = given_sources(sources) if sources else previous or default_sources(self.settings.sources)
        ingested = self.published() or read_manifest(self.kb_dir)
        return plan_ingest(self.kb_dir, previous, target, ingested.files if ingested else {})

    # -- ingest ------------------------------------------------------------------------------
    def ingest(self, sources: list[Path] | None = None, progress: bool = True, on_progress=None,
               on_plan: Callable[[IngestPlan], None] | None = None,
               on_wait: Callable[[str], None] | None = None) -> IngestReport:
        if sources:
            given_sources(sources)   # a typo fails before waiting for the lock
        state = self.serving.shared_state if self.settings.chroma_url else None
        with writer_lock(self.kb_dir, state, self.settings.writer_wait_seconds, on_wait or log.warning) as lock:
            head = self._start_from_published() if state else None
            plan = self.plan(sources)
            if on_plan:
                on_plan(plan)
            vectors = self._vectors_for_ingest()
            trusted = lock.previous_finished and self._vectors_match_catalog(vectors, head)
            builder = Builder(self.kb_dir, [Path(s) for s in plan.sources], self.serving.embedder, vectors,
                              self.settings.source_limits)
            report, _ = builder.run(progress=progress, on_progress=on_progress, vectors_match_catalog=trusted)
            if state:
                if not lock.lease.still_mine():
                    raise WriterBusy("导入期间失去了写入租约（进程暂停过久？），没有发布新版本；请重新运行 python -m kb ingest。"
                                     "The ingest lost its lease and published nothing; run it again.")
                self._publish()
        self.serving.reload()
        report.plan = plan
        report.warnings += self._older_collections_note(vectors)
        return report

    def _start_from_published(self):
        """Install the published generation locally first, so the build starts from what readers serve."""
        head = self.published()
        if head is not None:
            local, _ = verify(self.kb_dir, head.collection)
            if local is None or local.generation != head.generation:
                self.serving.shared_state.fetch(head, self.kb_dir)
        return head

    def _vectors_match_catalog(self, vectors: VectorIndex, head) -> bool:
        """The collection holds this folder's generation: it verifies, it is the published one, and
        the vector count is the one it expects (a server restarted empty fails this)."""
        local, _ = verify(self.kb_dir, vectors.name)
        if local is None or (self.settings.chroma_url and (head is None or head.generation != local.generation)):
            return False
        return vectors.count() == local.unit_count

    def _publish(self) -> None:
        manifest, _ = verify(self.kb_dir, self.serving.vectors.name)
        head = self.serving.shared_state.head()
        if manifest is not None and (head is None or head.generation != manifest.generation):
            self.serving.shared_state.publish(self.kb_dir, manifest)

    def _vectors_for_ingest(self) -> VectorIndex:
        """An embedded Chroma that cannot be opened (a corrupt database) is set aside and rebuilt."""
        vectors = self.serving.vectors
        try:
            vectors.connect()
            return vectors
        except VectorStoreUnavailable as err:
            store = self.kb_dir / "chroma"
            if self.settings.chroma_url or not store.exists():
                raise
            vectors.close()
            broken = self.kb_dir / "chroma.broken"
            shutil.rmtree(broken, ignore_errors=True)
            store.rename(broken)
            log.warning("内置向量数据库 %s 已损坏、无法打开（%s），已移到 %s，正在重建。", store, err, broken)
            vectors.connect()
            return vectors

    def _older_collections_note(self, vectors: VectorIndex) -> list[str]:
        try:
            older = vectors.sibling_collections()
        except VectorStoreUnavailable:
            return []
        if not older:
            return []
        return [(f"发现其他分块版本的集合 {', '.join(older)}：确认没有进程再使用它们后，运行 python -m kb gc 删除。"
                 "Collections of another chunking version remain; once no process serves them, "
                 "run python -m kb gc.")]

    # -- gc ------------------------------------------------------------------------------------
    def gc(self, dry_run: bool = False) -> list[str]:
        """Delete this model's collections of other chunking versions; never the one the published
        generation refers to, and nothing at all until this version has a generation to serve."""
        vectors = self.serving.vectors
        state = self.serving.shared_state if self.settings.chroma_url else None
        with writer_lock(self.kb_dir, state, self.settings.writer_wait_seconds, log.warning):
            current = state.head() if state else verify(self.kb_dir, vectors.name)[0]
            if current is None or current.collection != vectors.name:
                raise NothingPublished(f"当前版本的集合 {vectors.name} 还没有可用的知识库版本，删除旧集合会让读者无内容可用；"
                                       "请先运行 python -m kb ingest。Nothing of this version is published yet.")
            doomed = [n for n in vectors.sibling_collections() if _version(n) not in self._still_published(vectors, current)]
            if not dry_run:
                for name in doomed:
                    vectors.drop_collection(name)
                    log.warning("已删除集合 %s", name)
        return doomed

    def _still_published(self, vectors: VectorIndex, current) -> set[str]:
        """Chunking versions whose state was published after ours: some process still runs them."""
        keep = set()
        for name in vectors.sibling_collections():
            if not name.startswith("plankb-state-"):
                continue
            got = vectors.guarded(lambda name=name: vectors.side_collection(name).get(ids=[HEAD], include=["documents"]))
            if got["ids"] and json.loads(got["documents"][0]).get("published_at", "") > current.published_at:
                log.warning("集合 %s 的发布时间晚于当前版本，可能仍有进程在使用，保留。", name)
                keep.add(_version(name))
        return keep


def _version(collection: str) -> str:
    return collection.rsplit("-", 1)[-1]
