"""Read and parse every source file; a bad file becomes a message, never a lost corpus."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import UnreadableSource
from ingest.limits import DEFAULT_LIMITS, SourceLimits, check_file_size
from ingest.model import Document
from ingest.readers import reader_for, supported_suffixes
from ingest.sidecar import with_sidecar
from ingest.sources import discover_sources
from ingest.structure import parse_source


@dataclass
class Corpus:
    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)    # files that could not be read
    warnings: list[str] = field(default_factory=list)  # read, but something deserves a look


def load_document(path: Path, taken_keys: set[str] | None = None,
                  limits: SourceLimits = DEFAULT_LIMITS) -> Document:
    """Read and parse one file (raises UnreadableSource)."""
    reader = reader_for(path, limits)
    if reader is None:
        raise UnreadableSource(path, "不支持这种文件格式", f"支持的格式：{'、'.join(supported_suffixes())}")
    check_file_size(path, limits)
    source = reader.read(path)
    doc = with_sidecar(parse_source(source))
    if taken_keys is not None and doc.key in taken_keys:
        # Two documents with the same short title (e.g. two plans): the later one keeps its full title;
        # two versions of one title (a revised regulation beside the old text): it adds its version.
        key = doc.title if doc.title not in taken_keys else f"{doc.title}（{doc.dates.version or path.stem}）"
        if key in taken_keys:
            key = f"{key}（{path.stem}）"
        doc = with_sidecar(parse_source(source, doc_key=key))
    if not doc.clauses:
        raise UnreadableSource(path, "没有识别出任何正文", "请确认文件包含文字内容，而不是扫描图片")
    return doc


def load_corpus(sources: list[Path], limits: SourceLimits = DEFAULT_LIMITS) -> Corpus:
    found = discover_sources(sources, supported_suffixes())
    corpus = Corpus(errors=found.refused, warnings=found.missing)
    keys: set[str] = set()
    for path in found.files:
        try:
            doc = load_document(path, keys, limits)
        except UnreadableSource as err:
            corpus.errors.append(str(err))
            continue
        keys.add(doc.key)
        corpus.documents.append(doc)
        corpus.warnings.extend(f"{path.name}：{w}" for w in doc.warnings)
    return corpus
