"""The question log's storage: the same tests on SQLite (a file, WAL) and on a real PostgreSQL server."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from conftest import ROOT, fresh_postgres_database
from sqlalchemy import insert, inspect, select, update

from analytics import Database, Feedback, QuestionLog, StoreUnavailable
from analytics.grouping import QuestionGrouper
from analytics.migrations import LATEST
from analytics.records import utc_now
from analytics.report import gold_candidates, summary
from analytics.tables import citations, questions, schema_versions
from eval.gold import parse_gold_row
from eval.validate import schema_problems
from ingest.model import Clause
from kb.model import REFUSAL, Answer, Citation

pytestmark = pytest.mark.integration

PLAN = "青岛市“十四五”民营经济和中小企业发展规划"
ITEM7 = Clause("plan/ch3/s1/item7", PLAN, "plan", "item", "完善融资机制", "运用信贷风险补偿、增信、贴息等方式。",
               f"《{PLAN}》第三章第一节 第7条「完善融资机制」", 7, chapter=3, section=1, item=7)
ITEM8 = Clause("plan/ch3/s1/item8", PLAN, "plan", "item", "创新融资方式", "支持企业开展信用融资。",
               f"《{PLAN}》第三章第一节 第8条「创新融资方式」", 8, chapter=3, section=1, item=8)
LAW = "中华人民共和国中小企业促进法"
ART40 = Clause("中小企业促进法/art40", LAW, "law", "article", "第四十条", "向中小企业预留的采购份额应当占…",
               f"《{LAW}》第六章 第四十条", 40, article=40)


def answered(question: str, *clauses: Clause) -> Answer:
    """An answer quoting its first clause ([1]) and listing the others as related."""
    cites = [Citation(i, c, 0.9 - 0.1 * i) for i, c in enumerate(clauses or (ITEM7, ITEM8), start=1)]
    return Answer(question, f"{cites[0].clause.text}[1]", False, cites, latency_ms=21.5)


def refused(question: str) -> Answer:
    return Answer(question, REFUSAL, True, [Citation(1, ART40, 0.2)], latency_ms=9.0)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'analytics.sqlite'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def question_log(db_url):
    log = QuestionLog(Database(db_url))
    yield log
    log.close()


def rows(db: Database, table=questions) -> list:
    with db.reading() as conn:
        return conn.execute(select(table)).all()


def test_migrations_run_once_and_build_the_tables_the_code_uses(db_url):
    first, second = Database(db_url), Database(db_url)
    first.ensure_schema()
    second.ensure_schema()   # another process starting later: nothing to do
    first.ensure_schema()
    assert [(r.version, r.name) for r in rows(first, schema_versions)] == [(1, "questions and citations")]
    found = inspect(first.engine)
    for table in (questions, citations, schema_versions):
        assert [c["name"] for c in found.get_columns(table.name)] == list(table.c.keys())
    first.close()
    second.close()


def test_a_database_migrated_by_a_newer_plankb_is_refused_with_a_message(db_url):
    db = Database(db_url)
    db.ensure_schema()
    with db.writing() as conn:
        conn.execute(insert(schema_versions).values(version=LATEST + 1, name="from the future", applied_at=utc_now()))
    newer = Database(db_url)
    with pytest.raises(StoreUnavailable, match="升级 plan-kb") as err:
        newer.ensure_schema()
    assert "upgrade plan-kb" in str(err.value)


def test_every_answer_is_logged_once_with_what_officials_need(question_log):
    a, b = answered("小微企业贷款难，有什么支持？"), refused("明天青岛天气怎么样？")
    assert question_log.record(a, "api") and question_log.record(b, "chat", follow_up=True)
    question_log.record(a, "api")   # the same answer again (a retried batch): still one row
    assert question_log.flush()
    logged = {r.id: r for r in rows(question_log.database)}
    assert set(logged) == {a.id, b.id}
    ra, rb = logged[a.id], logged[b.id]
    assert (ra.question, ra.interface, ra.mode, ra.refused, ra.follow_up, ra.latency_ms) == \
        ("小微企业贷款难，有什么支持？", "api", "extractive", False, False, 21.5)
    assert (rb.refused, rb.interface, rb.follow_up, rb.rating) == (True, "chat", True, None)
    cited = sorted((r.answer_id, r.rank, r.clause_id, round(r.score, 3), r.cited) for r in rows(question_log.database, citations))
    assert cited == sorted([(a.id, 1, ITEM7.id, 0.8, True), (a.id, 2, ITEM8.id, 0.7, False),
                            (b.id, 1, ART40.id, 0.2, False)])
    status = question_log.status()
    assert status["ok"] and status["pending"] == 0 and status["dropped"] == 0


def test_text_the_databases_refuse_is_stored_cleaned(question_log):
    a = answered("融资\x00政策\ud800？")   # NUL (PostgreSQL refuses it) and a lone surrogate (not UTF-8)
    question_log.record(a, "api")
    assert question_log.flush()
    assert [r.question for r in rows(question_log.database)] == ["融资政策?？"]


WRITER = """
import sys
from analytics import Database, QuestionLog
from kb.model import Answer
log = QuestionLog(Database(sys.argv[1]))
for i in range(int(sys.argv[2])):
    log.record(Answer(f"{sys.argv[3]} 第{i}问", "…", False, []), "api")
log.close(timeout=60)
print(log.written)
"""


def test_several_processes_and_threads_log_every_answer_exactly_once(db_url):
    """Two other app processes and four threads of this one write at the same time."""
    Database(db_url).ensure_schema()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, db_url, "200", f"process{n}"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(2)]
    log = QuestionLog(Database(db_url))
    answers = [[Answer(f"thread{t} 第{i}问", "…", False, []) for i in range(50)] for t in range(4)]
    threads = [threading.Thread(target=lambda batch=batch: [log.record(a, "chat") for a in batch]) for batch in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "200"
    assert log.flush(30)
    logged = [r.question for r in rows(log.database)]
    log.close()
    assert len(logged) == len(set(logged)) == 2 * 200 + 4 * 50


def test_feedback_is_stored_replaced_and_withdrawn(question_log):
    a = answered("政府采购给中小企业预留多少份额？")
    question_log.record(a, "api")
    assert question_log.feedback(Feedback(a.id, "up")) == "stored"
    assert question_log.feedback(Feedback(a.id, "down", "引用错误", "应当引用促进法第四十条")) == "stored"
    [row] = rows(question_log.database)
    assert (row.rating, row.reason, row.comment) == ("down", "引用错误", "应当引用促进法第四十条")
    assert row.feedback_at is not None
    assert question_log.feedback(Feedback(a.id, None)) == "stored"   # 👎 clicked again: withdrawn
    [row] = rows(question_log.database)
    assert (row.rating, row.reason, row.comment) == (None, None, None)


def test_feedback_on_an_answer_nobody_logged_is_unknown(question_log):
    assert question_log.feedback(Feedback("0" * 32, "down", "没答到")) == "unknown"


def test_feedback_refuses_a_made_up_rating_or_reason():
    with pytest.raises(ValueError, match="rating"):
        Feedback("a", "meh")
    with pytest.raises(ValueError, match="reason"):
        Feedback("a", "down", "太长")


def test_old_questions_are_purged_after_the_retention_period(db_url):
    log = QuestionLog(Database(db_url), retention_days=None)
    old, recent = answered("去年的问题"), answered("今天的问题")
    log.record(old, "api")
    log.record(recent, "api")
    assert log.flush()
    with log.database.writing() as conn:
        conn.execute(update(questions).where(questions.c.id == old.id).values(asked_at=utc_now() - timedelta(days=400)))
    log.close()
    restarted = QuestionLog(Database(db_url), retention_days=365)   # purges at start, in the background
    deadline = time.monotonic() + 30
    while len(rows(restarted.database)) != 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [r.id for r in rows(restarted.database)] == [recent.id]
    assert {r.answer_id for r in rows(restarted.database, citations)} == {recent.id}
    restarted.close()


def test_the_summary_counts_groups_and_ranks_what_was_asked(question_log):
    loan = [answered("小微企业贷款难？"), answered("小微企业贷款难？"), answered("小微企业贷款 难")]
    procurement = answered("政府采购给中小企业预留多少份额？", ART40, ITEM7)
    weather = [refused("明天青岛天气怎么样？"), refused("明天青岛天气怎么样？")]
    for a in [*loan, procurement, *weather]:
        question_log.record(a, "api")
    question_log.feedback(Feedback(loan[0].id, "up"))
    question_log.feedback(Feedback(procurement.id, "down", "引用错误", "应引用第二条"))
    question_log.feedback(Feedback(weather[0].id, "down", "没答到"))
    data = summary(question_log.database, QuestionGrouper(None))
    assert (data["questions"], data["refused"]) == (6, 2)
    assert data["feedback"]["up"] == 1 and data["feedback"]["down"] == 2
    assert data["feedback"]["reasons"] == {"引用错误": 1, "没答到": 1, "不相关": 0, "已过时": 0, "其他": 0}
    assert data["top_questions"][0] == {"question": "小微企业贷款难？", "count": 3,
                                        "variants": [{"question": "小微企业贷款 难", "count": 1}]}
    assert data["refused_questions"] == [{"question": "明天青岛天气怎么样？", "count": 2, "variants": []}]
    assert [(d["questions"], d["refused"]) for d in data["per_day"]] == [(6, 2)]
    # Only clauses quoted in an answer's text count; a refusal's "possibly related" clauses do not.
    assert data["citations"]["documents"] == [{"doc_title": PLAN, "count": 3}, {"doc_title": LAW, "count": 1}]
    assert data["citations"]["clauses"][0] == {"clause_id": ITEM7.id, "doc_title": PLAN, "label": ITEM7.label,
                                               "count": 3}
    down = {d["question"]: d for d in data["down_feedback"]}
    assert down["政府采购给中小企业预留多少份额？"]["comment"] == "应引用第二条"
    assert down["政府采购给中小企业预留多少份额？"]["first_citation"] == ART40.label
    assert down["明天青岛天气怎么样？"]["refused"] is True


def test_gold_candidates_are_gold_rows_that_cannot_enter_unreviewed(question_log):
    for a in (refused("香港公司怎么在青岛注册？"), refused("香港公司怎么在青岛注册？"), answered("小微企业贷款难？")):
        question_log.record(a, "api")
    assert question_log.flush()
    [candidate] = gold_candidates(question_log.database, refused=True)
    assert candidate["question"] == "香港公司怎么在青岛注册？" and candidate["expect"] == [] and candidate["facts"] == []
    assert candidate["review"]["asked"] == 2 and candidate["review"]["cited"] == [ART40.id]
    problems = schema_problems(parse_gold_row(candidate))
    assert any("id must look like q001" in p for p in problems) and any("split" in p for p in problems)
    reviewed = {k: v for k, v in candidate.items() if k != "review"} | {"id": "q217", "split": "test"}
    assert schema_problems(parse_gold_row(reviewed)) == []   # an unanswerable question needs no targets
    picked = gold_candidates(question_log.database, wordings=["小微企业贷款难？"])
    assert [(c["question"], c["type"], c["review"]["cited"]) for c in picked] == \
        [("小微企业贷款难？", "factoid", [ITEM7.id, ITEM8.id])]
