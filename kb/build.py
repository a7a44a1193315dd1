"""Build or update the knowledge base from the sources, incrementally and safely.

Each run parses only new or changed files (by content hash), embeds only units whose
vectors are missing (the cache makes even those free when the text was seen before),
deletes vectors of removed text, then replaces the catalog, BM25 index and manifest
atomically. A run killed half-way leaves the previous catalog and BM25 usable, and the
next run completes the work: what is in Chroma is always reconciled with what should be.
A folder that does not match its manifest (see ``kb.generation``) is rebuilt, never read.
"""
from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from ingest.errors import UnreadableSource, printable
from ingest.limits import DEFAULT_LIMITS, SourceLimits
from ingest.loader import load_document
from ingest.model import Clause
from ingest.readers import supported_suffixes
from ingest.sidecar import metadata_stamp
from ingest.sources import discover_sources
from kb.catalog import Catalog, DocRecord
from kb.embed_cache import CachedEmbedder
from kb.generation import (
    LEXICAL,
    SENTENCES,
    Manifest,
    checksums,
    discard,
    generation_id,
    verify,
)
from kb.lexical import LexicalIndex, clause_text
from kb.sentences import SentenceVectors, clause_sentences
from kb.source_set import IngestPlan, file_sha256, under
from kb.tokenize import Tokenizer
from kb.units import Unit, units_for
from kb.vectors import VectorIndex

ProgressFn = Callable[[str, int, int], None]
log = logging.getLogger("kb")


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    embedded: int = 0          # passages the model embedded in this run
    units_added: int = 0
    units_deleted: int = 0
    seconds: float = 0.0
    plan: IngestPlan | None = None   # what the ingest set out to do (printed before it started)

    def summary(self) -> str:
        return (f"新增 {len(self.added)}，更新 {len(self.changed)}，删除 {len(self.removed)}，"
                f"未变 {len(self.unchanged)} 个文件；嵌入 {self.embedded} 段，"
                f"写入 {self.units_added} / 删除 {self.units_deleted} 个向量；用时 {self.seconds:.1f} 秒")


class Builder:
    """``sources``: the folders and files to ingest (absolute), remembered in the catalog and manifest."""

    def __init__(self, kb_dir: Path, sources: list[Path], embedder: CachedEmbedder, vectors: VectorIndex,
                 limits: SourceLimits = DEFAULT_LIMITS):
        self.kb_dir, self.embedder, self.vectors = kb_dir, embedder, vectors
        self.sources = [str(s) for s in sources]
        self.limits = limits
        self.catalog_path = kb_dir / "catalog.json"
        self.lexical_dir = kb_dir / LEXICAL
        self.sentences_dir = kb_dir / SENTENCES

    def run(self, progress: bool = True, on_progress: ProgressFn | None = None,
            vectors_match_catalog: bool = False) -> tuple[IngestReport, Catalog]:
        """``vectors_match_catalog``: the writer checked that the collection holds exactly the current
        catalog's units (same generation, same count, the last writer finished), so they need not be
        listed, which over HTTP is most of an unchanged re-ingest of a large corpus."""
        started = time.perf_counter()
        report = IngestReport()
        self.kb_dir.mkdir(parents=True, exist_ok=True)
        vectors_match_catalog &= self._check_integrity(report)
        old = Catalog.load(self.catalog_path) if self.catalog_path.exists() else Catalog([], [])
        old_by_source = {d.source: d for d in old.documents}
        found = discover_sources([Path(s) for s in self.sources], supported_suffixes())
        files = [f.resolve() for f in found.files]
        report.warnings.extend(found.missing)
        report.errors.extend(found.refused)

        documents: list[DocRecord] = []
        clauses: list[Clause] = []
        keys: set[str] = set()
        carried = self._carry_missing_sources(old, report, keys)
        for i, path in enumerate(tqdm(files, desc="解析文件 files", unit="个", disable=not progress)):
            if on_progress:
                on_progress("files", i, len(files))
            self._take_file(path, old, old_by_source, report, documents, clauses, keys)
        for doc in carried:
            documents.append(doc)
            clauses.extend(old.of_document(doc.title))
        seen = {str(p) for p in files} | {d.source for d in carried}
        report.removed = [d.source for d in old.documents if d.source not in seen]
        catalog = Catalog(documents, clauses, self.sources)

        units_of: dict[int, list] = {}   # clause object → its units: an unchanged file's clauses are the old ones

        def units_once(clause: Clause) -> list:
            got = units_of.get(id(clause))
            if got is None:
                got = units_of[id(clause)] = units_for(clause)
            return got

        units = [u for c in clauses for u in units_once(c)]
        wanted = {u.id for u in units}
        present = {u.id for c in old.clauses for u in units_once(c)} if vectors_match_catalog else self.vectors.ids()
        todo = [u for u in units if u.id not in present]
        stale = sorted(present - wanted)
        unchanged = not (todo or stale or report.added or report.changed or report.removed
                         or old.sources != self.sources)
        if (unchanged and self.catalog_path.exists() and LexicalIndex.is_current(self.lexical_dir)
                and SentenceVectors.is_current(self.sentences_dir)):
            report.seconds = time.perf_counter() - started
            return report, old if not documents else catalog

        self._embed(todo, report, progress, on_progress)
        self.vectors.delete(stale)
        report.units_deleted = len(stale)
        tokenizer = Tokenizer.for_corpus([clause_text(c) for c in clauses])
        LexicalIndex.build(tokenizer, clauses).save(self.lexical_dir)
        self._embed_sentences(clauses, progress, on_progress)
        catalog.save(self.catalog_path)
        self.write_manifest(documents, len(wanted))
        report.seconds = time.perf_counter() - started
        if on_progress:
            on_progress("done", 1, 1)
        return report, catalog

    def _carry_missing_sources(self, old: Catalog, report: IngestReport, keys: set[str]) -> list[DocRecord]:
        """A source that is missing as a whole (an unmounted share, a moved folder) keeps its documents:
        only ``--source`` without it removes them. Their keys are taken first, so no new file collides."""
        carried: list[DocRecord] = []
        for root in self.sources:
            if Path(root).exists():
                continue
            kept = [d for d in old.documents if under(d.source, root) and d.key not in keys]
            if not kept:
                continue
            carried += kept
            keys.update(d.key for d in kept)
            report.warnings.append(
                f"来源 {printable(root)} 不存在（未挂载或已移动？），保留其上次导入的 {len(kept)} 个文件；"
                "若确实不再需要，请用 --source 重新指定来源。"
                f"The source {printable(root)} is missing: its {len(kept)} documents are kept; "
                "to remove them, ingest with --source without it.")
        return carried

    def _check_integrity(self, report: IngestReport) -> bool:
        """False (after discarding the derived files, so they are rebuilt) when the folder is damaged."""
        _, problem = verify(self.kb_dir, self.vectors.name)
        if problem:
            message = f"知识库文件夹 {self.kb_dir} 不完整或已损坏：{problem}。已丢弃这些文件，正在从源文件重建。"
            log.warning(message)
            report.warnings.append(message)
            discard(self.kb_dir)
        return not problem

    def _take_file(self, path, old, old_by_source, report, documents, clauses, keys) -> None:
        sha = file_sha256(path)
        prev = old_by_source.get(str(path))
        if prev and prev.sha256 == sha and prev.meta_stamp == metadata_stamp(path) and prev.key not in keys:
            report.unchanged.append(path.name)
            documents.append(prev)
            clauses.extend(old.of_record(prev))
            keys.add(prev.key)
            return
        try:
            doc = load_document(path, keys, self.limits)
        except UnreadableSource as err:
            report.errors.append(str(err))
            if prev:  # keep what we had rather than lose the document
                report.warnings.append(f"{path.name}：保留上次成功导入的版本")
                documents.append(prev)
                clauses.extend(old.of_record(prev))
                keys.add(prev.key)
            return
        (report.changed if prev else report.added).append(path.name)
        report.warnings.extend(f"{path.name}：{w}" for w in doc.warnings)
        keys.add(doc.key)
        documents.append(DocRecord(
            key=doc.key, title=doc.title, short_title=doc.short_title, kind=doc.kind, issuer=doc.issuer,
            date=doc.date, source=str(path), sha256=sha,
            ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            clause_count=len(doc.clauses), encoding=doc.encoding,
            dates=doc.dates, meta_stamp=metadata_stamp(path)))
        clauses.extend(doc.clauses)

    def _embed(self, todo: list[Unit], report: IngestReport, progress: bool, on_progress) -> None:
        bar = tqdm(total=len(todo), desc="嵌入向量 embeddings", unit="段", disable=not progress or not todo)
        done = 0
        batch = 32
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            before = self.embedder.computed
            vectors = self.embedder.embed_passages([u.text for u in chunk])
            self.vectors.add(chunk, vectors)   # written per batch: a killed run keeps its progress
            report.embedded += self.embedder.computed - before
            report.units_added += len(chunk)
            done += len(chunk)
            bar.update(len(chunk))
            if on_progress:
                on_progress("embeddings", done, len(todo))
        bar.close()

    def _embed_sentences(self, clauses: list[Clause], progress: bool, on_progress) -> None:
        """Every sentence's vector (kb.sentences); sentences the cache holds cost nothing."""
        total = sum(len(clause_sentences(c.text)) for c in clauses)
        bar = tqdm(total=total, desc="句子向量 sentences", unit="句", disable=not progress)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            bar.update(n)
            if on_progress:
                on_progress("sentences", done, total)

        SentenceVectors.build(clauses, self.embedder.embed_passages, on_batch=advance).save(self.sentences_dir)
        bar.close()

    def write_manifest(self, documents: list[DocRecord], unit_count: int) -> None:
        """The manifest of the derived files now in the folder, written last (it makes them a generation)."""
        sums = checksums(self.kb_dir)
        Manifest(embedding_model=self.embedder.name, collection=self.vectors.name,
                 generation=generation_id(sums), unit_count=unit_count, checksums=sums,
                 files={d.source: d.sha256 for d in documents}, sources=self.sources,
                 host=socket.gethostname()).save(self.kb_dir)
