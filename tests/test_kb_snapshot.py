"""One answer, one generation: a swap that lands in the middle of an answer does not reach it."""
from __future__ import annotations

import shutil
import time

import pytest
from conftest import DATA

import kb.answering
from kb import KnowledgeBase, Settings
from kb.retrieve import HybridRetriever

pytestmark = pytest.mark.integration

LAW_TITLE = "某市小微企业服务促进条例（测试）"
LAW_QUESTION = "小微企业综合服务平台提供哪些服务？"


def test_an_answer_racing_a_generation_swap_uses_one_generation_throughout(tmp_path, embed_cache, monkeypatch):
    both, plan_only = tmp_path / "both", tmp_path / "plan_only"
    for folder in (both, plan_only):
        folder.mkdir()
        shutil.copy(DATA / "plan_excerpt.txt", folder / "plan_excerpt.txt")
    shutil.copy(DATA / "law_gb18030.txt", both / "law_gb18030.txt")
    kb_dir = tmp_path / "kb"
    reader = KnowledgeBase.open(Settings(dir=kb_dir, sources=[both], embed_cache=embed_cache, sync_seconds=0),
                                progress=False)
    before = reader.snapshot()
    writer = KnowledgeBase(Settings(dir=kb_dir, embed_cache=embed_cache))

    swapped, seen = [], {}
    retrieve, judge = HybridRetriever.retrieve, kb.answering.judge

    def retrieve_then_swap(self, *args, **kwargs):
        """Retrieval done: now another process removes the law, and this reader takes that generation."""
        found = retrieve(self, *args, **kwargs)
        if not swapped:
            swapped.append(writer.ingest(sources=[plan_only], progress=False))
            deadline = time.monotonic() + 30
            while reader.snapshot() is before and time.monotonic() < deadline:
                time.sleep(0.05)
        seen["retriever"] = self
        return found

    def watch_judgement(query, candidates, sentences, dense_top, retriever, corpus, *args, **kwargs):
        seen.update(judged_with=retriever, corpus=corpus)
        return judge(query, candidates, sentences, dense_top, retriever, corpus, *args, **kwargs)

    monkeypatch.setattr(HybridRetriever, "retrieve", retrieve_then_swap)
    monkeypatch.setattr(kb.answering, "judge", watch_judgement)
    answer = reader.answer(LAW_QUESTION)

    after = reader.snapshot()
    assert swapped and after is not before and LAW_TITLE not in {d.title for d in after.catalog.documents}
    assert seen["retriever"] is before.retriever and seen["judged_with"] is before.retriever
    assert seen["corpus"] is before.corpus and before.corpus is not after.corpus
    assert not answer.refused and answer.citations[0].clause.doc_title == LAW_TITLE
    assert all(c.clause.id in before.catalog.by_id for c in answer.citations)
    # The next question sees the new generation.
    assert all(c.clause.doc_title != LAW_TITLE for c in reader.answer(LAW_QUESTION).citations)
