"""Readers turn one file into ``SourceText``; each format is a small class behind ``Reader``.

    reader = reader_for(path)      # None when the suffix is not supported; reader_for(path, limits) to set limits
    source = reader.read(path)     # raises UnreadableSource with a message for the user
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from ingest.limits import DEFAULT_LIMITS, SourceLimits
from ingest.model import SourceText


@runtime_checkable
class Reader(Protocol):
    suffixes: tuple[str, ...]

    def read(self, path: Path) -> SourceText: ...


def _all_readers(limits: SourceLimits = DEFAULT_LIMITS) -> list[Reader]:
    from ingest.readers.docx import DocxReader
    from ingest.readers.html import HtmlReader
    from ingest.readers.pdf import PdfReader
    from ingest.readers.text import TextReader

    return [TextReader(), PdfReader(limits), DocxReader(limits), HtmlReader()]


def supported_suffixes() -> tuple[str, ...]:
    return tuple(s for r in _all_readers() for s in r.suffixes)


def reader_for(path: Path, limits: SourceLimits = DEFAULT_LIMITS) -> Reader | None:
    suffix = path.suffix.lower()
    for reader in _all_readers(limits):
        if suffix in reader.suffixes:
            return reader
    return None
