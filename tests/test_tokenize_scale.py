"""The corpus dictionary is exact and its memory is bounded by jieba's dictionary, not by the corpus.

The substring set it replaced held every 1–6-character window of the corpus: about 18 million
strings (over a gigabyte) for 10× the real corpus.
"""
from __future__ import annotations

import random
import tracemalloc

import jieba
import pytest

from bench.synthetic import perturb
from kb.lexical import clause_text
from kb.tokenize import _prefix_table, corpus_dictionary, mine_domain_terms, words_in

pytestmark = pytest.mark.integration

MIB = 1024 * 1024


def _jieba_words() -> list[str]:
    with open(jieba.get_dict_file().name, encoding="utf-8") as f:
        return [line.split(" ", 1)[0] for line in f]


def test_words_in_finds_exactly_the_dictionary_words_that_occur():
    texts = ["中小企业促进法规定", "拿地即开工，信易贷。", "专精特新“小巨人”企业", "abc 123"]
    words = _jieba_words()
    expected = {w for w in words if any(w in t for t in texts)}
    assert words_in(texts, _prefix_table(words)) == expected
    assert {"中小企业", "促进", "企业", "开工"} <= expected and "小巨人" not in expected   # jieba lacks it


def _peak_mib(texts: list[str]) -> tuple[float, int]:
    terms = mine_domain_terms(texts)
    tracemalloc.start()
    try:
        lines = len(corpus_dictionary(texts, terms))
        return tracemalloc.get_traced_memory()[1] / MIB, lines
    finally:
        tracemalloc.stop()


def test_dictionary_memory_at_10x_the_corpus_is_bounded_by_the_dictionary(kb):
    texts = [clause_text(c) for c in kb.clauses()]
    rng = random.Random(7)
    alphabet = "".join(ch for t in texts for ch in t if "\u4e00" <= ch <= "\u9fff")
    scaled = texts + [perturb(t, rng, alphabet) for _ in range(9) for t in texts]   # 10×, text of its own
    real, real_lines = _peak_mib(texts)
    ten, ten_lines = _peak_mib(scaled)
    print(f"dictionary mining, traced peak: 1× {real:.0f} MiB ({real_lines:,} lines), "
          f"10× {ten:.0f} MiB ({ten_lines:,} lines)")
    assert ten_lines > real_lines   # the copies' own words were found…
    # … in memory set by jieba's dictionary (its words and their prefixes), not by the corpus: the
    # substring set it replaced grew by ~90 MiB from 1× to 10× here, and by ~1 GiB more to 100×.
    assert ten - real < 8
