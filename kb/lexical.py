"""BM25 over jieba tokens of whole clauses (title counted twice), persisted beside the vectors."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import bm25s
import numpy as np

from ingest.model import Clause
from kb.tokenize import Tokenizer


def clause_tokens(tokenizer: Tokenizer, clause: Clause) -> list[str]:
    # The title names the measure (完善融资机制): weigh it like a second mention.
    return tokenizer.tokenize(f"{clause.title} {clause.title} {clause.chapter_title or ''} "
                              f"{clause.section_title or ''} {clause.text}")


class LexicalIndex:
    """``scores(query)`` gives one BM25 score per clause id."""

    def __init__(self, tokenizer: Tokenizer, clause_ids: list[str], bm25: bm25s.BM25):
        self.tokenizer = tokenizer
        self.clause_ids = clause_ids
        self._bm25 = bm25
        self._vocab = set(bm25.vocab_dict) if bm25.vocab_dict else set()

    @classmethod
    def build(cls, tokenizer: Tokenizer, clauses: list[Clause]) -> "LexicalIndex":
        bm25 = bm25s.BM25(k1=1.2, b=0.75)
        bm25.index([clause_tokens(tokenizer, c) or ["∅"] for c in clauses], show_progress=False)
        return cls(tokenizer, [c.id for c in clauses], bm25)

    def query_tokens(self, query: str) -> list[str]:
        return [t for t in self.tokenizer.tokenize(query) if t in self._vocab]

    def scores(self, query: str) -> dict[str, float]:
        tokens = self.query_tokens(query)
        if not tokens:
            return {}
        raw = np.asarray(self._bm25.get_scores(tokens))
        return {cid: float(s) for cid, s in zip(self.clause_ids, raw) if s > 0}

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._bm25.save(str(tmp), show_progress=False)
        (tmp / "clause_ids.json").write_text(json.dumps(self.clause_ids, ensure_ascii=False), encoding="utf-8")
        self.tokenizer.save(tmp / "userdict.txt")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        tokenizer = Tokenizer.load(folder / "userdict.txt")
        clause_ids = json.loads((folder / "clause_ids.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(folder), show_progress=False)
        return cls(tokenizer, clause_ids, bm25)
