"""Baseline (a): what a llama-index user gets out of the box.

SimpleDirectoryReader over the raw source files, SentenceSplitter(1024, 200), the same
embedding model as ours, an in-memory VectorStoreIndex, top-5. Chunks are not clauses, so a
target counts as found in a chunk of the target's own file that contains the target clause's
opening text. Both sides are compared without whitespace and punctuation: the parser joins a
table row 「市南区」+「旅游、…」 into 「市南区：旅游、…」, which the raw file never spells out.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

from eval.baselines import baseline_query
from eval.gold import GoldQuestion
from eval.metrics import Case
from eval.targets import resolve_target
from ingest.model import Clause

OPENING_CHARS = 20


def match_key(text: str) -> str:
    """Text without whitespace and punctuation, the form openings and chunks are compared in."""
    return "".join(ch for ch in text if not ch.isspace() and not unicodedata.category(ch).startswith("P"))


def clause_openings(clauses: Sequence[Clause], min_chars: int = OPENING_CHARS) -> dict[str, str]:
    """Clause id → its opening text, lengthened past ``min_chars`` until no other clause of the
    same document starts the same way (two articles opening 「违反本条例规定，」 stay apart)."""
    by_doc: dict[str, list[tuple[str, str]]] = {}
    for c in clauses:
        by_doc.setdefault(c.doc_title, []).append((c.id, match_key(c.text)))
    openings = {}
    for items in by_doc.values():
        for cid, text in items:
            n = min_chars
            while n < len(text) and any(o != cid and other.startswith(text[:n]) for o, other in items):
                n += 10
            openings[cid] = text[:n]
    return openings


class LlamaIndexDefaultBaseline:
    """Build once, then ``case(question)`` per gold question.

        base = LlamaIndexDefaultBaseline(files, embedder, kb.clauses(), file_of_doc)
        base.case(question).hits        # [False, True, False, False, False]
    """

    name = "llamaindex"
    label = "llama-index default"

    def __init__(self, files: Sequence[Path], embedder, clauses: Sequence[Clause],
                 file_of_doc: Mapping[str, str], top_k: int = 5,
                 chunk_size: int = 1024, chunk_overlap: int = 200):
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        from kb.llama import LlamaIndexEmbedding

        documents = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data()
        self.nodes = SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap) \
            .get_nodes_from_documents(documents)
        index = VectorStoreIndex(self.nodes, embed_model=LlamaIndexEmbedding(embedder), show_progress=False)
        self._retriever = index.as_retriever(similarity_top_k=top_k)
        self.clauses = list(clauses)
        self.top_k = top_k
        self._openings = clause_openings(self.clauses)
        self._file_of_doc = dict(file_of_doc)   # doc_title → file name of its source
        self._embedder = embedder   # a kb.embeddings.Embedder
        self._query_vectors: dict[str, list[float]] = {}

    def prepare(self, queries: list[str]) -> None:
        """Embed every query in one batch (several times faster than one by one on CPU);
        the retriever then receives each query with its embedding, exactly as it would compute it."""
        todo = sorted(set(queries) - set(self._query_vectors))
        if todo:
            self._query_vectors.update(zip(todo, self._embedder.embed_queries(todo).tolist()))

    def retrieve(self, query: str) -> list[dict]:
        """The top-k chunks as ``{"file", "text", "score", "key"}``, best first."""
        from llama_index.core.schema import QueryBundle

        bundle = QueryBundle(query, embedding=self._query_vectors.get(query))
        return [self._chunk(n.node, n.score) for n in self._retriever.retrieve(bundle)]

    @staticmethod
    def _chunk(node, score=None) -> dict:
        text = node.get_content()
        return {"file": node.metadata.get("file_name"), "text": text, "score": score, "key": match_key(text)}

    def chunk_has_clause(self, chunk: Mapping, clause: Clause) -> bool:
        return (chunk["file"] == self._file_of_doc.get(clause.doc_title)
                and self._openings[clause.id] in chunk["key"])

    def unfindable_clauses(self) -> list[str]:
        """Clauses whose opening is in no chunk of their file: targets this baseline could never hit."""
        chunks = [self._chunk(n) for n in self.nodes]
        return [c.id for c in self.clauses if not any(self.chunk_has_clause(ch, c) for ch in chunks)]

    def case(self, question: GoldQuestion) -> Case:
        accepted = [c for t in question.expect for c in resolve_target(t, self.clauses)]
        chunks = self.retrieve(baseline_query(question))
        ranks = tuple(any(self.chunk_has_clause(ch, c) for c in accepted) for ch in chunks)
        return Case(id=question.id, type=question.type, expect=question.expect, ranks=ranks,
                    extra={"chunks": [{"file": ch["file"], "score": ch["score"], "opening": ch["text"][:40]}
                                      for ch in chunks]})
