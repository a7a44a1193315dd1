"""Baseline (b): BM25 alone over our clauses, with the kb's own tokenizer (jieba on the dictionary mined
from the same clauses, the same stop words): our lexical retriever without dense retrieval, references,
bigrams, thesaurus or priors, so the table shows what the rest of the pipeline adds."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from eval.baselines import baseline_query
from eval.gold import GoldQuestion
from eval.metrics import Case
from eval.targets import ref_of_clause
from ingest.model import Clause


def corpus_tokenizer(clauses: Sequence[Clause]) -> Callable[[str], list[str]]:
    """The kb's tokenizer, with the dictionary it would mine from these clauses."""
    from kb.lexical import clause_text
    from kb.tokenize import Tokenizer

    return Tokenizer.for_corpus([clause_text(c) for c in clauses]).tokenize


class BM25ClauseBaseline:
    """Ranks clauses by BM25 over breadcrumb + text; ties keep reading order.

        bm25 = BM25ClauseBaseline(kb.clauses())
        bm25.retrieve("贴息")[0].label
    """

    name = "bm25"
    label = "BM25 over our clauses (our tokenizer)"

    def __init__(self, clauses: Sequence[Clause], tokenize: Callable[[str], list[str]] | None = None,
                 top_k: int = 5):
        import bm25s

        self.clauses = list(clauses)
        self.top_k = top_k
        self._tokenize = tokenize or corpus_tokenizer(self.clauses)
        self._index = bm25s.BM25()
        self._index.index([self._tokenize(f"{c.breadcrumb}\n{c.text}") or [""] for c in self.clauses],
                          show_progress=False)

    def prepare(self, queries: list[str]) -> None:
        """Nothing to batch: BM25 scores a query in microseconds."""

    def retrieve(self, query: str) -> list[Clause]:
        tokens = self._tokenize(query)
        if not tokens:
            return []
        scores = np.asarray(self._index.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")[: self.top_k]
        return [self.clauses[i] for i in order if scores[i] > 0]

    def case(self, question: GoldQuestion) -> Case:
        refs = tuple(ref_of_clause(c) for c in self.retrieve(baseline_query(question)))
        return Case(id=question.id, type=question.type, expect=question.expect, refs=refs)
