"""Where validity joins the answer path, apart from retrieval and composition:

- before retrieval, a question about validity itself (「这个规划现在还有效吗？」) is answered from
  the documents' dates (``kb.validity_answers``);
- after composition, every citation gets its standing, the version in force is cited before older
  versions of its title, and an answer drawn from an expired or superseded text gets its notice
  (``kb.validity.annotate``).

    steps = ValiditySteps(settings.today)
    day = steps.day(as_of)                                   # InvalidReferenceDate for a bad as_of
    answer = steps.before_retrieval(q, history, catalog, day) or steps.after_composition(composed, catalog, day)
"""
from __future__ import annotations

import threading
import time
from datetime import date

from kb.catalog import Catalog
from kb.lexicon import Lexicon
from kb.model import Answer
from kb.validity import Validity, annotate, reference_day
from kb.validity_answers import answer_validity

MAX_VALIDITY_QUESTION = 80   # a long paste is never a question about a document's dates


class ValiditySteps:
    def __init__(self, today: date | None = None):
        self.today = today
        self._cache: dict[tuple[int, date], Validity] = {}
        self._lock = threading.Lock()

    def day(self, as_of: str | date | None = None) -> date:
        return reference_day(as_of, self.today)

    def on(self, catalog: Catalog, day: date) -> Validity:
        """The statuses of ``catalog`` on ``day`` (computed once per catalog generation and day)."""
        key = (id(catalog), day)
        with self._lock:
            found = self._cache.get(key)
            if found is None or found.catalog is not catalog:
                if len(self._cache) > 32:
                    self._cache.clear()
                found = self._cache[key] = Validity(catalog, day)
            return found

    def before_retrieval(self, question: str, history: list[dict] | None, catalog: Catalog,
                         day: date, lexicon: Lexicon | None = None) -> Answer | None:
        """The answer from metadata when the question asks about validity, else None."""
        started = time.perf_counter()
        q = " ".join((question or "").split())
        if not q or len(q) > MAX_VALIDITY_QUESTION:
            return None
        validity = self.on(catalog, day)
        found = answer_validity(q, history, catalog, validity, lexicon)
        if found is None:
            return None
        found = annotate(found, validity, reorder=False)
        found.latency_ms = (time.perf_counter() - started) * 1000
        return found

    def after_composition(self, answer: Answer, catalog: Catalog, day: date, reorder: bool = True) -> Answer:
        return annotate(answer, self.on(catalog, day), reorder=reorder)
