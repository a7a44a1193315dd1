"""The benchmark's synthetic corpus builder at a tiny factor: the product opens it unchanged and answers over it."""
from __future__ import annotations

import pytest

from bench.synthetic import build_scaled, sources_dir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_doubled_corpus_opens_unchanged_and_still_cites_the_real_clause(kb, tmp_path, embed_cache, full_sources):
    from kb import KnowledgeBase, Settings

    real = kb.settings.dir
    sources = [*full_sources, sources_dir(tmp_path / "x2")]
    catalog = build_scaled(real, tmp_path / "x2", factor=2, sources=sources)
    real_count = len(kb.clauses())
    assert len(catalog.clauses) == 2 * real_count
    assert len({c.id for c in catalog.clauses}) == len(catalog.clauses)       # distinct ids
    copies = [c for c in catalog.clauses if "~1" in c.id]
    assert len(copies) == real_count and all(c.text != kb.clause(c.id.replace("~1", "")).text for c in copies)

    settings = Settings(dir=tmp_path / "x2", sources=sources, embed_cache=embed_cache)
    doubled = KnowledgeBase(settings)
    report = doubled.ingest(progress=False)
    assert not (report.added or report.changed or report.removed or report.embedded), report.summary()
    assert len(doubled.clauses()) == 2 * real_count
    assert doubled.answer("第7条").citations[0].clause.id == "plan/ch3/s1/item7"
    assert doubled.answer("小微企业贷款难，有什么支持？").citations[0].clause.id == \
        kb.answer("小微企业贷款难，有什么支持？").citations[0].clause.id


def test_copied_source_files_parse_into_the_same_outline_and_ingest_from_the_seeded_cache(kb, tmp_path,
                                                                                          full_sources):
    """``bench.copies``: files the parser reads, with titles and text of their own; a real ingest of
    them takes every vector from the cache the benchmark seeded, so it embeds nothing."""
    from bench.copies import seed_embeddings, write_copies
    from ingest.loader import load_document
    from kb import KnowledgeBase, Settings

    folder = tmp_path / "copies"
    files = write_copies(full_sources, folder, factor=2)
    cache = tmp_path / "seeded.sqlite"
    assert seed_embeddings(kb.settings.dir, folder, cache, full_sources) > 0
    real = {d.title: d for d in kb.documents()}
    for path in files:
        copy = load_document(path)
        original = next(t for t in real if copy.title == f"{t}（副本1）")
        assert copy.clauses and len(copy.clauses) == real[original].clause_count
        assert [c.text for c in copy.clauses] != [c.text for c in kb.clauses(original)]

    doubled = KnowledgeBase(Settings(dir=tmp_path / "kb", sources=[folder], embed_cache=cache))
    report = doubled.ingest(progress=False)
    assert len(report.added) == len(files) and report.embedded == 0 and report.units_added > 0
    assert doubled.answer("第7条").citations[0].clause.doc_title.endswith("（副本1）")
