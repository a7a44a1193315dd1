"""One score scale: normalisation, citations in score order on every gold answer, top_k honoured."""
from __future__ import annotations

import pytest
from conftest import needs_related

from kb.retrieve import _by_best, _min_max
from kb.units import clause_of


@pytest.mark.unit
def test_a_lone_or_tied_candidate_gets_full_credit():
    assert _min_max({"a": 0.83}) == {"a": 1.0}
    assert _min_max({"a": 0.8, "b": 0.8}) == {"a": 1.0, "b": 1.0}
    assert _min_max({"a": 0.9, "b": 0.8, "c": 0.85}) == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.5})
    assert _by_best({"only": 3.2}) == {"only": 1.0}
    assert _by_best({"a": 4.0, "b": 1.0}) == {"a": 1.0, "b": 0.25}   # the weakest BM25 match keeps its share
    assert _min_max({}) == {} and _by_best({"a": 0.0}) == {}


@pytest.mark.integration
@pytest.mark.slow
@needs_related
def test_citations_are_in_score_order_on_every_gold_question(kb):
    from eval.gold import load_gold

    out_of_order = []
    for q in load_gold():
        scores = [c.score for c in kb.answer(q.question, list(q.history) or None).citations]
        if scores != sorted(scores, reverse=True):
            out_of_order.append(f"{q.id}: {[round(s, 3) for s in scores]}")
    assert not out_of_order, "\n".join(out_of_order[:10])


@pytest.mark.integration
def test_a_reference_leads_on_the_same_scale(kb):
    ans = kb.answer("第7条")
    assert [c.marker for c in ans.citations] == list(range(1, len(ans.citations) + 1))
    assert ans.citations[0].clause.item == 7
    assert all(ans.citations[0].score > c.score for c in ans.citations[1:])


@pytest.mark.integration
def test_search_honours_top_k_and_lists_exact_matches_first(kb):
    for k in (1, 3, 7):
        assert len(kb.search("融资", top_k=k)) == k
    hits = kb.search("信易贷", top_k=10)
    assert "keyword" in hits[0].retrievers and "信易贷" in hits[0].clause.text
    exact = [h for h in hits if "keyword" in h.retrievers]
    assert exact == hits[:len(exact)] and [h.score for h in exact] == sorted((h.score for h in exact), reverse=True)


@pytest.mark.integration
def test_the_llama_index_retriever_returns_top_k_nodes(kb):
    from llama_index.core.schema import QueryBundle

    from kb.llama import KnowledgeBaseRetriever

    for k in (1, 5):
        assert len(KnowledgeBaseRetriever(kb, top_k=k).retrieve(QueryBundle("小微企业融资"))) == k


@pytest.mark.integration
def test_every_sentence_of_every_clause_has_its_vector_and_the_asked_one_scores_best(kb):
    """The sentence vectors (kb/sentences.py) line up with the verbatim sentences the answer quotes,
    and the real model puts the sentence that states the asked fact above its clause's others."""
    from kb.sentences import clause_sentences

    snap = kb.snapshot()
    vectors = snap.retriever.sentences
    assert vectors.clause_ids == [c.id for c in snap.catalog.clauses]
    assert vectors.counts == [len(clause_sentences(c.text)) for c in snap.catalog.clauses]
    [item1] = [c for c in snap.catalog.clauses if c.doc_kind == "plan" and c.item == 1]
    sentences = [s for s, _ in clause_sentences(item1.text)]
    sims = vectors.scores(snap.retriever.query_vector("在青岛开办一家企业要花几个工作日？"), [item1.id]).of(item1.id)
    assert "0.5个工作日" in sentences[int(sims.argmax())]


@pytest.mark.integration
def test_the_text_a_dense_hit_matched_is_the_text_the_vector_store_holds(kb):
    """A query fetches only ids and distances; the matched unit's text is rebuilt from the catalog,
    and it must be exactly the text stored beside that vector at ingest."""
    snap = kb.snapshot()
    stored = snap.retriever.vectors.collection.get(include=["documents"])
    assert len(stored["ids"]) == snap.retriever.vectors.count() > len(snap.catalog.clauses)
    rebuilt = {uid: snap.retriever.unit_window(uid, clause_of(uid)) for uid in stored["ids"]}
    assert rebuilt == dict(zip(stored["ids"], stored["documents"]))
