"""BM25 over whole clauses (title counted twice), persisted beside the vectors.

Two views of the same text: jieba words (with the domain dictionary), and CJK character
bigrams, which still match when the question segments differently from the document
(「知识产权官司」 vs 「知识产权案件」 share 知识/识产/产权).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import bm25s
import numpy as np

from ingest.model import Clause
from kb.text import fold_width
from kb.tokenize import Tokenizer

LEXICAL_VERSION = "words+bigrams+df+dict-4"   # bump when tokenisation changes: the index is then rebuilt
_RUNS = re.compile(r"[\u3400-\u9fff]+|[a-z0-9%.]+")


def clause_text(clause: Clause) -> str:
    # The title names the measure (完善融资机制): weigh it like a second mention.
    return f"{clause.title} {clause.title} {clause.chapter_title or ''} {clause.section_title or ''} {clause.text}"


def char_bigrams(text: str) -> list[str]:
    """Overlapping CJK character pairs; Latin words and numbers whole."""
    out: list[str] = []
    for run in _RUNS.findall(fold_width(text).lower()):
        if not "\u3400" <= run[0] <= "\u9fff" or len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


def _bm25(docs: list[list[str]]) -> bm25s.BM25:
    bm25 = bm25s.BM25(k1=1.2, b=0.75)
    bm25.index([d or ["∅"] for d in docs], show_progress=False)
    return bm25


# Clauses kept per lexical view and query. Above the real corpus's size (361 clauses), so there
# every match is kept; on a corpus 100× larger it keeps fusion and ranking from touching tens of
# thousands of weak matches on every question.
CANDIDATES = 400


def _scores(bm25: bm25s.BM25, vocab: set[str], ids: list[str], tokens: list[str]) -> dict[str, float]:
    tokens = [t for t in tokens if t in vocab]
    if not tokens:
        return {}
    raw = np.asarray(bm25.get_scores(tokens))
    hits = np.flatnonzero(raw > 0)
    if len(hits) > CANDIDATES:
        hits = hits[np.argpartition(raw[hits], -CANDIDATES)[-CANDIDATES:]]
    return {ids[i]: float(raw[i]) for i in hits}


class LexicalIndex:
    """``scores(query)`` (words) and ``bigram_scores(query)`` give one BM25 score per clause id."""

    def __init__(self, tokenizer: Tokenizer, clause_ids: list[str], words: bm25s.BM25, bigrams: bm25s.BM25,
                 doc_freq: dict[str, int]):
        self.tokenizer = tokenizer
        self.clause_ids = clause_ids
        self.doc_freq = doc_freq
        self._words, self._bigrams = words, bigrams
        self._word_vocab = set(words.vocab_dict or ())
        self._bigram_vocab = set(bigrams.vocab_dict or ())

    @classmethod
    def build(cls, tokenizer: Tokenizer, clauses: list[Clause]) -> LexicalIndex:
        tokens = [tokenizer.tokenize(clause_text(c)) for c in clauses]
        doc_freq: dict[str, int] = {}
        for toks in tokens:
            for t in set(toks):
                doc_freq[t] = doc_freq.get(t, 0) + 1
        return cls(tokenizer, [c.id for c in clauses], _bm25(tokens),
                   _bm25([char_bigrams(clause_text(c)) for c in clauses]), doc_freq)

    def query_tokens(self, query: str) -> list[str]:
        return [t for t in self.tokenizer.tokenize(query) if t in self._word_vocab]

    def scores(self, query: str) -> dict[str, float]:
        return _scores(self._words, self._word_vocab, self.clause_ids, self.tokenizer.tokenize(query))

    def bigram_scores(self, query: str) -> dict[str, float]:
        return _scores(self._bigrams, self._bigram_vocab, self.clause_ids, char_bigrams(query))

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._words.save(str(tmp / "words"), show_progress=False)
        self._bigrams.save(str(tmp / "bigrams"), show_progress=False)
        (tmp / "doc_freq.json").write_text(json.dumps(self.doc_freq, ensure_ascii=False), encoding="utf-8")
        (tmp / "VERSION").write_text(LEXICAL_VERSION, encoding="utf-8")
        (tmp / "clause_ids.json").write_text(json.dumps(self.clause_ids, ensure_ascii=False), encoding="utf-8")
        self.tokenizer.save(tmp / "dictionary.txt")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)

    @staticmethod
    def is_current(folder: Path) -> bool:
        version = folder / "VERSION"
        return version.exists() and version.read_text(encoding="utf-8").strip() == LEXICAL_VERSION

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        tokenizer = Tokenizer.load(folder / "dictionary.txt")
        clause_ids = json.loads((folder / "clause_ids.json").read_text(encoding="utf-8"))
        words = bm25s.BM25.load(str(folder / "words"), show_progress=False)
        bigrams = bm25s.BM25.load(str(folder / "bigrams"), show_progress=False)
        doc_freq = json.loads((folder / "doc_freq.json").read_text(encoding="utf-8"))
        return cls(tokenizer, clause_ids, words, bigrams, doc_freq)
