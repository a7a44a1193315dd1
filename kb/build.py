"""Build or update the knowledge base from the sources, incrementally and safely.

Each run parses only new or changed files (by content hash), embeds only units whose
vectors are missing (the cache makes even those free when the text was seen before),
deletes vectors of removed text, then replaces the catalog, BM25 index and manifest
atomically. A run killed half-way leaves the previous catalog and BM25 usable, and the
next run completes the work: what is in Chroma is always reconciled with what should be.
A folder that does not match its manifest (see ``kb.generation``) is rebuilt, never read.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tqdm import tqdm

from ingest.errors import UnreadableSource
from ingest.limits import DEFAULT_LIMITS, SourceLimits
from ingest.loader import load_document
from ingest.model import Clause
from ingest.readers import supported_suffixes
from ingest.sources import discover_sources
from kb.catalog import Catalog, DocRecord
from kb.embed_cache import CachedEmbedder
from kb.generation import Manifest, checksums, discard, generation_id, verify
from kb.lexical import LexicalIndex, clause_text
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

    def summary(self) -> str:
        return (f"新增 {len(self.added)}，更新 {len(self.changed)}，删除 {len(self.removed)}，"
                f"未变 {len(self.unchanged)} 个文件；嵌入 {self.embedded} 段，"
                f"写入 {self.units_added} / 删除 {self.units_deleted} 个向量；用时 {self.seconds:.1f} 秒")


def file_sha256(path: Path) -> str:
    """Read in blocks: a file far over the size limit is hashed, then refused, without filling memory."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class Builder:
    def __init__(self, kb_dir: Path, sources: list[Path], embedder: CachedEmbedder, vectors: VectorIndex,
                 limits: SourceLimits = DEFAULT_LIMITS):
        self.kb_dir, self.sources, self.embedder, self.vectors = kb_dir, sources, embedder, vectors
        self.limits = limits
        self.catalog_path = kb_dir / "catalog.json"
        self.lexical_dir = kb_dir / "lexical"

    def run(self, progress: bool = True, on_progress: ProgressFn | None = None) -> tuple[IngestReport, Catalog]:
        started = time.perf_counter()
        report = IngestReport()
        self.kb_dir.mkdir(parents=True, exist_ok=True)
        self._check_integrity(report)
        old = Catalog.load(self.catalog_path) if self.catalog_path.exists() else Catalog([], [])
        old_by_source = {d.source: d for d in old.documents}
        found = discover_sources(self.sources, supported_suffixes())
        files = [f.resolve() for f in found.files]
        report.warnings.extend(found.missing)
        report.errors.extend(found.refused)

        documents: list[DocRecord] = []
        clauses: list[Clause] = []
        keys: set[str] = set()
        for i, path in enumerate(tqdm(files, desc="解析文件 files", unit="个", disable=not progress)):
            if on_progress:
                on_progress("files", i, len(files))
            self._take_file(path, old, old_by_source, report, documents, clauses, keys)
        seen = {str(p) for p in files}
        report.removed = [d.source for d in old.documents if d.source not in seen]
        catalog = Catalog(documents, clauses)

        units = [u for c in clauses for u in units_for(c)]
        wanted = {u.id for u in units}
        present = self.vectors.ids()
        todo = [u for u in units if u.id not in present]
        stale = sorted(present - wanted)
        unchanged = not (todo or stale or report.added or report.changed or report.removed)
        if unchanged and self.catalog_path.exists() and LexicalIndex.is_current(self.lexical_dir):
            report.seconds = time.perf_counter() - started
            return report, old if not documents else catalog

        self._embed(todo, report, progress, on_progress)
        self.vectors.delete(stale)
        report.units_deleted = len(stale)
        tokenizer = Tokenizer.for_corpus([clause_text(c) for c in clauses])
        LexicalIndex.build(tokenizer, clauses).save(self.lexical_dir)
        catalog.save(self.catalog_path)
        self.write_manifest(documents, len(wanted))
        report.seconds = time.perf_counter() - started
        if on_progress:
            on_progress("done", 1, 1)
        return report, catalog

    def _check_integrity(self, report: IngestReport) -> None:
        _, problem = verify(self.kb_dir, self.vectors.name)
        if problem:
            message = f"知识库文件夹 {self.kb_dir} 不完整或已损坏：{problem}。已丢弃这些文件，正在从源文件重建。"
            log.warning(message)
            report.warnings.append(message)
            discard(self.kb_dir)

    def _take_file(self, path, old, old_by_source, report, documents, clauses, keys) -> None:
        sha = file_sha256(path)
        prev = old_by_source.get(str(path))
        if prev and prev.sha256 == sha and prev.key not in keys:
            report.unchanged.append(path.name)
            documents.append(prev)
            clauses.extend(old.of_document(prev.title))
            keys.add(prev.key)
            return
        try:
            doc = load_document(path, keys, self.limits)
        except UnreadableSource as err:
            report.errors.append(str(err))
            if prev:  # keep what we had rather than lose the document
                report.warnings.append(f"{path.name}：保留上次成功导入的版本")
                documents.append(prev)
                clauses.extend(old.of_document(prev.title))
                keys.add(prev.key)
            return
        (report.changed if prev else report.added).append(path.name)
        report.warnings.extend(f"{path.name}：{w}" for w in doc.warnings)
        keys.add(doc.key)
        documents.append(DocRecord(
            key=doc.key, title=doc.title, short_title=doc.short_title, kind=doc.kind, issuer=doc.issuer,
            date=doc.date, source=str(path), sha256=sha,
            ingested_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            clause_count=len(doc.clauses), encoding=doc.encoding))
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

    def write_manifest(self, documents: list[DocRecord], unit_count: int) -> None:
        """The manifest of the derived files now in the folder, written last (it makes them a generation)."""
        sums = checksums(self.kb_dir)
        Manifest(embedding_model=self.embedder.name, collection=self.vectors.name,
                 generation=generation_id(sums), unit_count=unit_count, checksums=sums,
                 files={d.source: d.sha256 for d in documents}).save(self.kb_dir)
