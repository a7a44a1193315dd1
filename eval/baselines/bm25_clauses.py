"""Baseline (b): BM25 alone over our clauses, tokenised the way the kb tokenises (jieba)."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from eval.baselines import baseline_query
from eval.gold import GoldQuestion
from eval.metrics import Case
from eval.targets import ref_of_clause
from ingest.model import Clause


def default_tokenizer() -> Callable[[str], list[str]]:
    """kb's tokenizer when it exposes one, else jieba search mode without stop words."""
    try:
        from kb.tokenize import tokenize
        return tokenize
    except ImportError:
        import jieba

        stop = set(["的", "了", "是", "在", "和", "与", "及", "或", "有", "吗", "呢", "什么", "怎么", "如何", "多少", "哪些", "吧", "啊", "我", "我们", "你", "请问"])
        return lambda text: [t for t in jieba.lcut_for_search(text.lower()) if t.strip() and t not in stop]


class BM25ClauseBaseline:
    """Ranks clauses by BM25 over breadcrumb + text; ties keep reading order.

        bm25 = BM25ClauseBaseline(kb.clauses())
        bm25.retrieve("贴息")[0].label
    """

    name = "bm25"
    label = "BM25 over clauses"

    def __init__(self, clauses: Sequence[Clause], tokenize: Callable[[str], list[str]] | None = None,
                 top_k: int = 5):
        import bm25s

        self.clauses = list(clauses)
        self.top_k = top_k
        self._tokenize = tokenize or default_tokenizer()
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
