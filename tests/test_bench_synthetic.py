"""The benchmark's synthetic corpus builder at a tiny factor: the product opens it unchanged and answers over it."""
from __future__ import annotations

import pytest

from bench.synthetic import build_scaled, sources_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_doubled_corpus_opens_unchanged_and_still_cites_the_real_clause(kb, tmp_path, embed_cache, full_sources):
    from kb import KnowledgeBase, Settings

    real = kb.settings.dir
    catalog = build_scaled(real, tmp_path / "x2", factor=2)
    real_count = len(kb.clauses())
    assert len(catalog.clauses) == 2 * real_count
    assert len({c.id for c in catalog.clauses}) == len(catalog.clauses)       # distinct ids
    copies = [c for c in catalog.clauses if "~1" in c.id]
    assert len(copies) == real_count and all(c.text != kb.clause(c.id.replace("~1", "")).text for c in copies)

    settings = Settings(dir=tmp_path / "x2", sources=[*full_sources, sources_dir(tmp_path / "x2")],
                        embed_cache=embed_cache)
    doubled = KnowledgeBase(settings)
    report = doubled.ingest(progress=False)
    assert not (report.added or report.changed or report.removed or report.embedded), report.summary()
    assert len(doubled.clauses()) == 2 * real_count
    assert doubled.answer("第7条").citations[0].clause.id == "plan/ch3/s1/item7"
    assert doubled.answer("小微企业贷款难，有什么支持？").citations[0].clause.id == \
        kb.answer("小微企业贷款难，有什么支持？").citations[0].clause.id
