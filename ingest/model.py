"""The records that leave ingest/: a parsed ``Document`` and its citable ``Clause``s.

Readers produce ``SourceText`` (blocks of text with page numbers); the structure
parser turns it into a ``Document``. Everything downstream (kb/, app/, eval/)
speaks in these types.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DocKind = Literal["plan", "law", "regulation", "notice", "other"]

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


@dataclass(frozen=True)
class DatedEvent:
    """One dated line of a preamble: 「2017年9月1日 第十二届…会议修订」 → (2017-09-01, 修订, the line)."""

    date: str       # ISO YYYY-MM-DD
    action: str     # the verb as written: 通过, 公布, 修订, 修正, 批准, 印发, 施行…
    kind: str       # what it means: adopted | issued | revised | effective
    line: str       # the line as written, quoted when a question asks about it


@dataclass(frozen=True)
class DocumentDates:
    """When a document applies: what its text says, corrected or completed by its sidecar file.

    ``effective_from``/``effective_until`` are inclusive ISO dates (a plan's period start and end);
    ``version`` names this text among others of the same title (「2025年修订」).
    """

    issued: str | None = None             # first adoption, promulgation or issue
    effective_from: str | None = None
    effective_until: str | None = None
    period: tuple[int, int] | None = None  # a plan's years, e.g. (2021, 2025)
    events: tuple[DatedEvent, ...] = ()
    version: str | None = None
    evidence: str | None = None           # id of the clause that states the day it takes effect
    superseded_by: str | None = None      # title of the document that replaced it (sidecar)
    superseded_on: str | None = None
    repealed_on: str | None = None
    sidecar: str | None = None            # name of the sidecar file that corrected or added to these

    @property
    def revisions(self) -> tuple[DatedEvent, ...]:
        return tuple(e for e in self.events if e.kind == "revised")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | None) -> DocumentDates:
        if not data:
            return cls()
        period = data.get("period")
        return cls(**{**data, "period": tuple(period) if period else None,
                      "events": tuple(DatedEvent(**e) for e in data.get("events") or ())})


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
    dates: DocumentDates = field(default_factory=DocumentDates)
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    doc_key: str | None = None   # the id prefix when the usual one was taken (see ``key``)

    @property
    def key(self) -> str:
        """The document part of every clause id (``plan`` or the short title, unless another
        document had it: then its full title, or its title and version)."""
        return self.doc_key or ("plan" if self.short_title == "规划" else self.short_title)
