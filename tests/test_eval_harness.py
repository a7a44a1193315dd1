"""The harness around the metrics: runner, verdicts, baselines, report, chart, compare and gate."""
import json

import pytest

from eval.baselines import baseline_query, run_baseline
from eval.baselines.bm25_clauses import BM25ClauseBaseline
from eval.baselines.llamaindex_default import clause_openings
from eval.compare import compare_runs, load_records, render_comparison
from eval.gate import check_gate, load_thresholds, target_gaps
from eval.gold import parse_gold_row
from eval.metrics import Case
from eval.report import score_table, summarize, write_results
from eval.runner import case_from_answer, missing_documents
from eval.verdict import verdict
from ingest.model import Clause
from kb.model import Answer, Citation

pytestmark = pytest.mark.unit

PLAN = "青岛市“十四五”民营经济和中小企业发展规划"
LAW = "中华人民共和国中小企业促进法"


def clause(id, text, doc=PLAN, kind="plan", **fields):
    return Clause(id=id, doc_title=doc, doc_kind=kind, kind="item" if "item" in fields else "article",
                  title="", text=text, label=id, order=0, **fields)


CLAUSES = [
    clause("plan/ch3/s1/item7", "加大财政贴息力度，对小微企业贷款给予贴息。", chapter=3, section=1, item=7),
    clause("plan/ch3/s1/item8", "推广“信易贷”平台，发展信用融资。", chapter=3, section=1, item=8),
    clause("plan/ch3/s2/item2", "政府采购预留份额专门面向中小企业。", chapter=3, section=2, item=2),
    clause("中小企业促进法/art40", "政府采购应当预留本部门年度政府采购项目预算总额的百分之三十以上。",
           doc=LAW, kind="law", chapter=6, article=40),
]


def gold(**kw):
    base = {"id": "q001", "split": "dev", "type": "factoid", "question": "小微企业贷款有贴息吗？",
            "expect": [{"doc": "规划", "item": 7}], "facts": ["贴息"]}
    return parse_gold_row({**base, **kw})


def answer_of(text, clauses, refused=False):
    cits = [Citation(marker=i, clause=c, score=1.0 / i) for i, c in enumerate(clauses, start=1)]
    return Answer(question="?", text=text, refused=refused, citations=cits).to_json()


# --- runner and verdicts ----------------------------------------------------------------------

def test_case_from_a_real_answer_json_and_its_verdict():
    q = gold()
    c = case_from_answer(q, answer_of("加大财政贴息力度，对小微企业贷款给予贴息。[1]", CLAUSES[:2]), 12.5)
    assert c.hits == [True, False] and c.latency_ms == 12.5
    assert verdict(c) == (True, [])


def test_verdict_lists_every_reason():
    q = gold(type="multi", expect=[{"doc": "规划", "item": 7}, {"doc": "中小企业促进法", "article": 40}],
             facts=["贴息", "百分之三十"])
    c = case_from_answer(q, answer_of("推广“信易贷”平台[1]。对小微企业给予补贴[2]。", [CLAUSES[1], CLAUSES[0]]), 1)
    passed, reasons = verdict(c)
    assert passed is False
    text = " ".join(reasons)
    assert "rank 2" in text and "百分之三十" in text and "对小微企业给予补贴" in text and "中小企业促进法/article40" in text


def test_unanswerable_passes_only_when_refused():
    q = gold(type="unanswerable", expect=[], facts=[])
    assert verdict(case_from_answer(q, answer_of("抱歉", [], refused=True), 1)) == (True, [])
    assert verdict(case_from_answer(q, answer_of("贴息[1]", CLAUSES[:1]), 1))[0] is False


def test_questions_on_absent_documents_are_skipped_not_dropped():
    q = gold(expect=[{"doc": "规划", "item": 2}, {"doc": "中小企业促进法", "article": 40}])
    assert missing_documents(q, {"规划"}) == ["中小企业促进法"]
    assert missing_documents(gold(type="unanswerable", expect=[], facts=[]), {"规划"}) == []
    skipped = Case(id="q9", type="factoid", expect=q.expect, skipped=True,
                   extra={"missing_documents": ["中小企业促进法"]})
    assert verdict(skipped) == (None, ["skipped: document not in the knowledge base: 中小企业促进法"])
    table = score_table([skipped, Case(id="q1", type="factoid", expect=q.expect)], {})
    assert table["factoid"] == {"n": 1, "skipped": 1}


# --- baselines --------------------------------------------------------------------------------

def test_bm25_baseline_ranks_our_clauses():
    bm25 = BM25ClauseBaseline(CLAUSES, top_k=3)
    assert bm25.retrieve("信易贷平台")[0].item == 8
    assert bm25.retrieve("") == []
    cases = run_baseline(bm25, [gold(), gold(id="q002", type="unanswerable", expect=[], facts=[])], {"q003"})
    assert cases[0].hits[0] is True and cases[1].expect == ()


def test_baselines_skip_what_our_run_skipped():
    cases = run_baseline(BM25ClauseBaseline(CLAUSES), [gold()], skipped={"q001"})
    assert cases[0].skipped


def test_followups_search_with_the_earlier_user_turns():
    q = gold(type="followup", question="那小微企业呢？",
             history=[{"role": "user", "content": "政府采购预留多少？"}, {"role": "assistant", "content": "30%"}])
    assert baseline_query(q) == "政府采购预留多少？\n那小微企业呢？"


def test_openings_grow_until_unique_within_a_document():
    same = [clause("a/art1", "违反本条例规定，拖延支付中小企业款项的，依法处理。", doc=LAW, kind="law", article=1),
            clause("a/art2", "违反本条例规定，拖延支付中小企业款项的，由上级机关责令改正。", doc=LAW, kind="law", article=2),
            clause("plan/x", "违反本条例规定，拖延支付中小企业款项的，依法处理。", item=1)]
    openings = clause_openings(same, min_chars=10)
    assert openings["a/art1"] != openings["a/art2"] and not openings["a/art2"].startswith(openings["a/art1"])
    assert openings["plan/x"] == "违反本条例规定拖延支"   # punctuation aside; other documents do not lengthen it


# --- report, compare, gate --------------------------------------------------------------------

def _run(tmp_path, passing):
    q = gold()
    text = "加大财政贴息力度，对小微企业贷款给予贴息。[1]" if passing else "推广“信易贷”平台[1]。"
    ours = [case_from_answer(q, answer_of(text, CLAUSES[:1] if passing else CLAUSES[1:2]), 5.0)]
    base = run_baseline(BM25ClauseBaseline(CLAUSES), [q])
    summary = summarize(ours, {"bm25": ("BM25", base)}, split="all", embed_model="test", wall_time_s=0.1)
    return summary, write_results(tmp_path, summary, ours, [q], {"bm25": base})


def test_results_files_and_the_ratio_to_each_baseline(tmp_path):
    summary, paths = _run(tmp_path, passing=True)
    assert summary["ours"]["all"]["hit@1"] == 1.0 and summary["ratios"]["bm25"]["all"] == 1.0
    assert summary["by_split"]["dev"]["hit@1"] == 1.0 and "test" not in summary["by_split"]
    record = json.loads(paths["jsonl"].read_text(encoding="utf-8"))
    assert record["passed"] is True and record["citations"][0]["hit"] is True
    assert record["baselines"]["bm25"]["rank"] == 1
    md = paths["md"].read_text(encoding="utf-8")
    assert "## By split" in md and "## Our pipeline" in md and "ours ÷ BM25" in md and "### BM25" in md


def test_compare_names_newly_failing_questions(tmp_path):
    (tmp_path / "old").mkdir()
    _, old_paths = _run(tmp_path / "old", passing=True)
    _, new_paths = _run(tmp_path, passing=False)
    old, new = load_records(old_paths["jsonl"]), load_records(new_paths["jsonl"])
    changes = compare_runs(old, new)
    assert changes["newly_failing"] == ["q001"] and changes["newly_passing"] == []
    assert compare_runs(new, old)["newly_passing"] == ["q001"]
    assert "Newly failing: 1" in render_comparison(changes, new)


def test_every_gate_entry_names_a_metric_the_harness_measures():
    """A misspelt metric or split in thresholds.toml would gate nothing; it must fail here instead."""
    from eval.gold import SPLITS
    from eval.metrics import ANSWER_METRICS, RETRIEVAL_METRICS

    for name, rule in load_thresholds().items():
        assert rule["metric"] in {*RETRIEVAL_METRICS, *ANSWER_METRICS, "skipped"}, name
        assert rule.get("split", "all") in {*SPLITS, "all"}, name


RULES = {"hit": {"metric": "hit@1", "split": "test", "min": 0.9, "target": 0.95},
         "refusal": {"metric": "refusal_accuracy", "split": "test", "min": 0.8},
         "false": {"metric": "false_refusal_rate", "split": "dev", "max": 0.03},
         "skipped": {"metric": "skipped", "max": 0}}


def test_target_gaps_name_metrics_between_floor_and_target():
    summary = {"skipped": 0, "by_split": {"test": {"hit@1": 0.92, "refusal_accuracy": 0.9},
                                          "dev": {"false_refusal_rate": 0.0}}}
    assert check_gate(summary, RULES) == []
    assert target_gaps(summary, RULES) == ["hit@1 [test] = 0.92, target 0.95 not reached yet"]


def test_gate_lists_every_failing_metric_on_its_split():
    summary = {"skipped": 2, "by_split": {"test": {"hit@1": 0.5, "refusal_accuracy": None},
                                          "dev": {"false_refusal_rate": 0.1, "hit@1": 1.0}}}
    assert check_gate(summary, RULES) == [
        "hit@1 [test] = 0.5 < 0.9 (minimum)", "refusal_accuracy [test]: not measured (no question it applies to)",
        "false_refusal_rate [dev] = 0.1 > 0.03 (maximum)", "skipped [all] = 2 > 0 (maximum)"]


def test_suggested_floors_sit_below_the_measured_value_and_are_reproducible():
    from eval.gate import bootstrap_bound

    values = [1.0] * 90 + [0.0] * 10
    low = bootstrap_bound(values)
    assert 0.8 < low < 0.9 and bootstrap_bound(values) == low
    assert bootstrap_bound([0.0] * 97 + [1.0] * 3, lower=False) > 0.03


def test_chart_is_written(tmp_path):
    from eval.chart import write_chart

    summary, _ = _run(tmp_path, passing=True)
    path = write_chart(summary, tmp_path / "chart.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_an_exception_in_kb_answer_becomes_a_failing_row():
    from eval.runner import run_gold

    class BrokenKB:
        def clauses(self):
            return CLAUSES

        def answer(self, question, history=None):
            raise RuntimeError("index missing")

    (c,) = run_gold(BrokenKB(), [gold()])
    passed, reasons = verdict(c)
    assert passed is False and reasons[0] == "kb.answer raised RuntimeError: index missing"


def test_publish_rewrites_only_the_quality_block_leading_with_the_test_split(tmp_path):
    from eval.publish import refresh_readme

    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- quality:start -->\nold\n<!-- quality:end -->\nrest\n", encoding="utf-8")
    summary = {"by_split": {"dev": {"n": 3, "hit@1": 1.0}, "test": {"n": 2, "hit@1": 0.5}, "all": {"n": 5}},
               "baselines": {}}
    text = refresh_readme(summary, {"hit@1": 0.9, "n": 3, "folds": 5}, readme).read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- quality:start -->\n") and text.endswith("<!-- quality:end -->\nrest\n")
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]   # after the header
    assert "locked test split" in rows[0] and "0.500" in rows[0]
    assert rows[1].startswith("| dev") and "5-fold cross-validation" in rows[-1] and "\nold\n" not in text
