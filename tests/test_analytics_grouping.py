"""Wordings of one need are grouped with the knowledge base's own question embeddings (the real model)."""
from __future__ import annotations

import numpy as np
import pytest

from analytics.grouping import QuestionGrouper, wording_key
from kb import KnowledgeBase, Settings


@pytest.fixture(scope="module")
def embed(tmp_path_factory, embed_cache):
    kb = KnowledgeBase(Settings(dir=tmp_path_factory.mktemp("kb-embed"), embed_cache=embed_cache))
    return kb.embed_texts


@pytest.mark.unit
def test_wordings_that_differ_only_in_width_spacing_or_final_mark_are_one():
    assert wording_key("小微企业 贷款难？") == wording_key("小微企业贷款难?") == wording_key("小微企业贷款难")
    assert wording_key("ＳＭＥ loans") == wording_key("sme loans")
    assert wording_key("专栏5") != wording_key("专栏6")


@pytest.mark.integration
def test_embed_texts_gives_unit_vectors_that_rank_a_rewording_above_another_need(embed):
    v = embed(["小微企业贷款难，有什么支持？", "小微企业融资难怎么办", "明天青岛天气怎么样？"])
    assert v.shape[0] == 3 and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.integration
def test_rewordings_of_one_need_form_one_group_and_other_needs_stay_apart(embed):
    asked = [("小微企业贷款难，有什么支持？", 5), ("明天青岛天气怎么样？", 4), ("小微企业融资难怎么办", 3),
             ("政府采购给中小企业预留多少份额？", 2), ("政府采购中小企业份额是多少", 2), ("办营业执照要多久？", 1),
             ("青岛天气如何", 1)]
    groups, method = QuestionGrouper(embed).group(asked)
    assert method == "embeddings"
    shape = {g["question"]: (g["count"], sorted(v["question"] for v in g["variants"])) for g in groups}
    assert shape == {
        "小微企业贷款难，有什么支持？": (8, ["小微企业融资难怎么办"]),
        "明天青岛天气怎么样？": (5, ["青岛天气如何"]),
        "政府采购给中小企业预留多少份额？": (4, ["政府采购中小企业份额是多少"]),
        "办营业执照要多久？": (1, []),
    }
    assert [g["count"] for g in groups] == [8, 5, 4, 1]   # most asked first


@pytest.mark.unit
def test_without_working_embeddings_the_view_still_groups_by_wording():
    def broken(texts):
        raise RuntimeError("model file missing")

    groups, method = QuestionGrouper(broken).group([("贷款难？", 2), ("贷款难", 1), ("天气", 1)])
    assert method == "wording"
    assert [(g["question"], g["count"]) for g in groups] == [("贷款难？", 3), ("天气", 1)]
