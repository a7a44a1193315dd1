"""The records that leave ingest/: a parsed ``Document`` and its citable ``Clause``s.

Readers produce ``SourceText`` (blocks of text with page numbers); the structure
parser turns it into a ``Document``. Everything downstream (kb/, app/, eval/)
speaks in these types.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DocKind = Literal["plan", "law", "regulation", "other"]

# Fields of ``python -m ingest --json`` and ``GET /api/clause``: the public shape of a clause.
CLAUSE_JSON_FIELDS = (
    "id", "doc_title", "doc_kind", "chapter", "chapter_title", "section", "section_title",
    "item", "box", "article", "title", "text", "page", "label",
)


@dataclass(frozen=True)
class Block:
    """One paragraph (or heading line) of a source file, with the page it starts on."""

    text: str
    page: int | None = None


@dataclass
class SourceText:
    """What a reader returns: the file's paragraphs in reading order, plus how it was read."""

    path: Path
    blocks: list[Block]
    encoding: str | None = None
    paged: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Clause:
    """The smallest citable unit: a plan item, a box, a goal, a law article.

    ``kind`` says which (preface, lead, topic, item, box, article); ``order`` is
    the reading position inside its document.
    """

    id: str
    doc_title: str
    doc_kind: DocKind
    kind: str
    title: str
    text: str
    label: str
    order: int
    chapter: int | None = None
    chapter_title: str | None = None
    section: int | None = None
    section_title: str | None = None
    item: int | None = None
    box: int | None = None
    article: int | None = None
    page: int | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        return {name: data[name] for name in CLAUSE_JSON_FIELDS}

    @property
    def breadcrumb(self) -> str:
        """Document › chapter › section › title: prepended to the text when it is embedded."""
        parts = [self.doc_title]
        if self.chapter_title:
            parts.append(self.chapter_title)
        if self.section_title:
            parts.append(self.section_title)
        if self.title and self.title not in parts:
            parts.append(self.title)
        return " › ".join(parts)


@dataclass
class Document:
    """A parsed source file: its metadata and clauses in reading order."""

    title: str
    short_title: str
    kind: DocKind
    path: Path
    clauses: list[Clause]
    issuer: str | None = None
    date: str | None = None
    preamble: list[str] = field(default_factory=list)
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    doc_key: str | None = None   # set when the short title clashed with another document's

    @property
    def key(self) -> str:
        """The document part of every clause id (``plan`` or the short title, or the full title
        for the second of two documents with the same short title)."""
        return self.doc_key or ("plan" if self.short_title == "规划" else self.short_title)
