"""Every ingested clause and document, persisted as JSON beside the index, looked up by structure."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.model import Clause, DocumentDates


@dataclass(frozen=True)
class DocRecord:
    key: str            # id prefix of its clauses ("plan", "中小企业促进法")
    title: str
    short_title: str
    kind: str
    issuer: str | None
    date: str | None
    source: str         # file path as ingested
    sha256: str
    ingested_at: str
    clause_count: int
    encoding: str | None = None
    dates: DocumentDates = DocumentDates()   # when it applies (ingest.validity, ingest.sidecar)
    meta_stamp: str = ""                     # ingest.sidecar.metadata_stamp when it was read

    @classmethod
    def from_json(cls, data: dict) -> DocRecord:
        return cls(**{**data, "dates": DocumentDates.from_json(data.get("dates"))})


class Catalog:
    """``sources``: the folders and files the KB was built from (what ``python -m kb ingest`` uses
    again when it is given none); None in a catalog written before they were remembered."""

    def __init__(self, documents: list[DocRecord], clauses: list[Clause], sources: list[str] | None = None):
        self.documents = documents
        self.clauses = clauses
        self.sources = sources
        self.by_id = {c.id: c for c in clauses}
        self.by_key = {d.key: d for d in documents}
        self._of_title: dict[str, list[Clause]] = {}
        self._of_key: dict[str, list[Clause]] = {}
        for c in clauses:
            self._of_title.setdefault(c.doc_title, []).append(c)
            if (doc := self.doc_for(c)) is not None:
                self._of_key.setdefault(doc.key, []).append(c)

    def doc_for(self, clause: Clause) -> DocRecord | None:
        """The document a clause belongs to: the key its id starts with (two versions of one
        regulation share a title, never a key)."""
        parts = clause.id.split("/")
        for end in range(len(parts) - 1, 0, -1):
            if (doc := self.by_key.get("/".join(parts[:end]))) is not None:
                return doc
        return None

    def of_document(self, title: str) -> list[Clause]:
        """Clauses of every document with this title (all its versions), in reading order."""
        return list(self._of_title.get(title, ()))

    def of_record(self, doc: DocRecord) -> list[Clause]:
        """Clauses of this one document (one version)."""
        return list(self._of_key.get(doc.key, ()))

    def find(self, title: str, **fields: int | None) -> list[Clause]:
        """Clauses of a document whose given structural fields all match, in reading order."""
        return [c for c in self.of_document(title)
                if all(getattr(c, k) == v for k, v in fields.items())]

    def plan_documents(self) -> list[DocRecord]:
        return [d for d in self.documents if d.kind == "plan"]

    def save(self, path: Path) -> None:
        data = {"sources": self.sources, "documents": [asdict(d) for d in self.documents],
                "clauses": [asdict(c) for c in self.clauses]}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a killed ingest leaves the previous catalog whole

    @classmethod
    def load(cls, path: Path) -> Catalog:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([DocRecord.from_json(d) for d in data["documents"]], [Clause(**c) for c in data["clauses"]],
                   data.get("sources"))
