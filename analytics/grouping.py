"""Group the wordings of one question: 「小微企业贷款难怎么办」 and 「小微企业融资难有什么支持」 are one need.

First identical wordings (width, case, spaces and end punctuation folded), then the question
embeddings the knowledge base already has (``KnowledgeBase.embed_texts``): the most asked wording
leads a group, and each later wording joins the first leader it is at least ``SIMILAR`` alike.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

log = logging.getLogger("analytics")

# Cosine of two questions under the bundled multilingual-e5-small (measured on pairs of the app's
# example questions): rewordings of one need 0.93–0.97 (「小微企业贷款难」/「小微企业融资难怎么办」 0.966,
# 「办营业执照要多久」/「开公司注册登记需要几天」 0.927), neighbouring needs 0.88–0.93 (「小企业借钱难」/
# 「政府部门欠钱不还」 0.927, 「今天天气」/「开公司注册」 0.83). 0.93 keeps neighbours apart at the price
# of leaving a few rewordings in groups of their own.
SIMILAR = 0.93
_END_PUNCTUATION = re.compile(r"[?？。.!！~～\s]+$")
_SPACES = re.compile(r"\s+")


def wording_key(question: str) -> str:
    """What two wordings share when they differ only in width, case, spacing or the final 「？」."""
    folded = unicodedata.normalize("NFKC", question).lower()
    return _SPACES.sub("", _END_PUNCTUATION.sub("", folded))


class QuestionGrouper:
    """Groups ``(question, count)`` pairs; question vectors are kept between calls (the admin view
    refreshes often, and questions repeat)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray] | None, threshold: float = SIMILAR,
                 cache_size: int = 20_000):
        self.embed, self.threshold, self.cache_size = embed, threshold, cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def group(self, counts: list[tuple[str, int]]) -> tuple[list[dict], str]:
        """``[{"question", "count", "variants": [{"question", "count"}]}]``, most asked first, and how the
        wordings were compared ("embeddings", or "wording" when no embedder could be used)."""
        by_key: dict[str, list[tuple[str, int]]] = {}
        for question, count in sorted(counts, key=lambda qc: -qc[1]):
            by_key.setdefault(wording_key(question), []).append((question, count))
        groups = [sorted(members, key=lambda qc: -qc[1]) for members in by_key.values()]
        groups.sort(key=lambda g: -sum(c for _, c in g))
        method = "wording"
        if self.embed is not None and len(groups) > 1:
            try:
                groups = self._merge_similar(groups)
                method = "embeddings"
            except Exception:
                log.exception("问题分组：无法计算问题向量，仅按字面分组")
        return [_as_group(g) for g in groups], method

    def _merge_similar(self, groups: list[list[tuple[str, int]]]) -> list[list[tuple[str, int]]]:
        vectors = self._vectors([g[0][0] for g in groups])
        leaders: list[int] = []
        merged: list[list[tuple[str, int]]] = []
        for i, members in enumerate(groups):          # most asked first: a group's leader is its top wording
            if leaders:
                sims = vectors[leaders] @ vectors[i]
                best = int(np.argmax(sims))
                if sims[best] >= self.threshold:
                    merged[best].extend(members)
                    continue
            leaders.append(i)
            merged.append(list(members))
        for members in merged:
            members.sort(key=lambda qc: -qc[1])
        merged.sort(key=lambda g: -sum(c for _, c in g))
        return merged

    def _vectors(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = self.embed(missing)
            with self._lock:
                for text, vec in zip(missing, fresh):
                    known[text] = self._cache[text] = np.asarray(vec, dtype=np.float32)
                while len(self._cache) > self.cache_size:   # oldest first
                    self._cache.popitem(last=False)
        return np.stack([known[t] for t in texts])


def _as_group(members: list[tuple[str, int]]) -> dict:
    return {"question": members[0][0], "count": sum(c for _, c in members),
            "variants": [{"question": q, "count": c} for q, c in members[1:]]}
