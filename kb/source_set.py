"""The sources a knowledge base remembers, how the files on disk compare with what was ingested,
and what an ingest is about to add, remove or keep.

Only ``python -m kb ingest`` changes the remembered set (``--source`` replaces it); every other
process that opens the KB only reads it. It is kept in the manifest and in catalog.json, so either
one surviving is enough; a KB built before sources were remembered gets the defaults plus every
file it holds that lies outside them, so nothing it serves is ever dropped by that upgrade.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import printable
from ingest.readers import supported_suffixes
from ingest.sources import climbs_out, discover_sources
from kb.catalog import Catalog, DocRecord
from kb.generation import CATALOG, MANIFEST

LISTED = 12   # file names shown per category in a plan; the rest are counted
OUTSIDE = "（不在来源中 outside the sources）"

STATE_LABELS = {"present": "未变 present", "changed": "导入后已修改 changed since ingest",
                "missing": "磁盘上已不存在 missing on disk", "new": "新文件，尚未导入 new, not ingested"}


class SourceError(ValueError):
    """A ``--source`` that cannot be used as given; the message says which and why."""


def given_sources(sources: list[Path]) -> list[str]:
    """``--source`` paths as the absolute paths the KB remembers; refused when one climbs out of a
    folder or does not exist (a typo must not remove a folder's documents)."""
    out: list[str] = []
    for src in sources:
        if problem := climbs_out(src):
            raise SourceError(problem)
        if not src.exists():
            raise SourceError(f"来源 {printable(str(src))} 不存在（文件夹或文件），没有做任何改动。"
                              f"The source {printable(str(src))} does not exist; nothing was changed.")
        resolved = str(src.resolve())
        if resolved not in out:
            out.append(resolved)
    return out


def default_sources(sources: list[Path]) -> list[str]:
    """``KB_SOURCES`` (or the project's defaults) for a new KB, as configured: a missing one is
    reported by the ingest and one that climbs out of its folder refused there, with a message each."""
    return [str(s) if climbs_out(s) else str(s.resolve()) for s in sources]


def file_sha256(path: Path) -> str:
    """Read in blocks: a file far over the size limit is hashed, then refused, without filling memory."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def under(path: str, root: str) -> bool:
    """``path`` is the source ``root`` itself or a file inside it."""
    return path == root or Path(path).is_relative_to(root)


def remembered_sources(kb_dir: Path, defaults: list[Path]) -> list[str] | None:
    """The set the KB folder remembers (manifest first, then catalog.json); None for a new KB."""
    for name in (MANIFEST, CATALOG):
        try:
            sources = json.loads((kb_dir / name).read_text(encoding="utf-8")).get("sources")
        except (OSError, ValueError, AttributeError):
            continue
        if sources:
            return list(sources)
    try:
        catalog = Catalog.load(kb_dir / CATALOG)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return inferred_sources(catalog.documents, defaults)


def inferred_sources(documents: list[DocRecord], defaults: list[Path]) -> list[str]:
    """For a catalog written before sources were remembered: the defaults, plus each file it holds
    that lies outside them."""
    roots = default_sources(defaults)
    extra = [d.source for d in documents if not any(under(d.source, r) for r in roots)]
    return roots + [s for s in dict.fromkeys(extra)]


@dataclass(frozen=True)
class FileState:
    path: str
    state: str        # "present" | "changed" | "missing" | "new"


@dataclass
class RootState:
    root: str
    exists: bool
    files: list[FileState] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for f in self.files if f.state == state)


@dataclass
class SourceListing:
    """What ``python -m kb sources`` shows."""

    sources: list[str] | None     # the remembered set; None for a KB never ingested
    roots: list[RootState]
    host: str = ""                # the machine that ingested it (the files are on its disk)


class FileHashes:
    """sha256 of source files, recomputed only when a file's size or mtime moved."""

    def __init__(self):
        self._seen: dict[str, tuple[int, int, str]] = {}

    def sha(self, path: str) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        known = self._seen.get(path)
        if known and known[:2] == (st.st_mtime_ns, st.st_size):
            return known[2]
        digest = file_sha256(Path(path))
        self._seen[path] = (st.st_mtime_ns, st.st_size, digest)
        return digest


def survey(roots: list[str], ingested: dict[str, str], hashes: FileHashes | None = None) -> list[RootState]:
    """Each root, and each file under it: ingested and unchanged, changed, missing on disk, or new.
    ``ingested``: source file → sha256 as ingested (the manifest's ``files``)."""
    hashes = hashes or FileHashes()
    states: list[RootState] = []
    claimed: set[str] = set()
    for root in roots:
        state = RootState(root, os.path.exists(root))
        on_disk = ([str(f.resolve()) for f in discover_sources([Path(root)], supported_suffixes()).files]
                   if state.exists else [])
        for path, sha in ingested.items():
            if under(path, root) and path not in claimed:
                claimed.add(path)
                now = hashes.sha(path)
                state.files.append(FileState(path, "missing" if now is None else
                                             "present" if now == sha else "changed"))
        state.files += [FileState(p, "new") for p in on_disk if p not in ingested]
        states.append(state)
    orphans = [FileState(p, "missing" if hashes.sha(p) is None else "present") for p in ingested if p not in claimed]
    if orphans:   # ingested from a source no longer in the set: only an old catalog has these
        states.append(RootState(OUTSIDE, True, orphans))
    return states


@dataclass
class IngestPlan:
    """What one ingest will do to the set of sources and files, printed before it does it."""

    kb_dir: str
    previous: list[str] | None          # the remembered set before (None: a new KB)
    sources: list[str]                  # the set this ingest uses and remembers
    roots: list[RootState]              # the new set's sources, surveyed
    removed_roots: list[RootState]      # sources leaving the set, with the ingested files under them
    leaving: list[str] = field(default_factory=list)   # ingested files no source of the new set covers

    @property
    def replaced(self) -> bool:
        return self.previous is not None and self.previous != self.sources

    def files(self, state: str) -> list[str]:
        return [f.path for r in self.roots for f in r.files if f.state == state]

    def removed_files(self) -> list[str]:
        """Files whose documents leave the KB: vanished from a source that still exists, or no longer
        covered by any source. A source that is missing as a whole keeps its documents."""
        gone = [f.path for r in self.roots if r.exists for f in r.files if f.state == "missing"]
        return gone + self.leaving

    def render(self) -> str:
        lines = [f"导入计划 Ingest plan（知识库 {self.kb_dir}）："]
        if self.previous is None:
            lines.append("  新知识库，来源 new knowledge base, sources:")
        before = set(self.previous or [])
        for r in self.roots:
            verb = "保留 keep  " if r.root in before else "新增 add   "
            files = len(r.files) - r.count("missing") if r.exists else r.count("missing")
            note = "" if r.exists else "，不存在：保留其上次导入的文件 missing: its documents are kept"
            lines.append(f"  {verb} {r.root}（{files} 个文件 files{note}）")
        for r in self.removed_roots:
            lines.append(f"  移除 remove {r.root}（{len(r.files)} 个文件的内容将从知识库删除 files leave the KB）")
        added, changed, removed = self.files("new"), self.files("changed"), self.removed_files()
        kept = sum(r.count("present") for r in self.roots) + sum(r.count("missing") for r in self.roots if not r.exists)
        lines.append(f"  文件 files：新增 add {len(added)}，更新 update {len(changed)}，删除 remove {len(removed)}，"
                     f"保留 keep {kept}")
        for label, paths in (("新增 add", added), ("更新 update", changed), ("删除 remove", removed)):
            lines += [f"    {label}: {Path(p).name}" for p in paths[:LISTED]]
            if len(paths) > LISTED:
                lines.append(f"    {label}: … 另 {len(paths) - LISTED} 个 and {len(paths) - LISTED} more")
        return "\n".join(lines)


def plan_ingest(kb_dir: Path, previous: list[str] | None, sources: list[str], ingested: dict[str, str],
                hashes: FileHashes | None = None) -> IngestPlan:
    roots = survey(sources, ingested, hashes or FileHashes())
    leaving = [f.path for r in roots if r.root == OUTSIDE for f in r.files]
    removed_roots = [RootState(root, os.path.exists(root), [FileState(p, "present") for p in leaving if under(p, root)])
                     for root in previous or [] if root not in sources]
    return IngestPlan(str(kb_dir), previous, sources, [r for r in roots if r.root != OUTSIDE], removed_roots,
                      leaving)
