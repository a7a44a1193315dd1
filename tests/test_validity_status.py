"""Status on a reference date (kb.validity), citations, notices and validity answers, over catalogs
built from the real documents and synthetic ones (no index needed: statuses come from the dates)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.loader import load_corpus
from ingest.model import Document
from ingest.sources import PROJECT_SOURCES, SHARED_RELATED
from kb.catalog import Catalog, DocRecord
from kb.model import Answer, Citation
from kb.settings import Settings
from kb.validity import InvalidReferenceDate, Validity, annotate, reference_day
from kb.validity_answers import answer_validity
from kb.validity_step import ValiditySteps

pytestmark = pytest.mark.unit
needs_related = pytest.mark.skipif(not SHARED_RELATED.is_dir(),
                                   reason=f"related laws not found at {SHARED_RELATED} (a fresh machine without ../shared)")
PAYMENT = SHARED_RELATED / "保障中小企业款项支付条例(2025修订).md"
PLAN = "青岛市“十四五”民营经济和中小企业发展规划"


def _record(doc: Document) -> DocRecord:
    return DocRecord(doc.key, doc.title, doc.short_title, doc.kind, doc.issuer, doc.date, str(doc.path), "-",
                     "2026-01-01T00:00:00", len(doc.clauses), dates=doc.dates)


def catalog_of(*sources: Path) -> Catalog:
    corpus = load_corpus(list(sources))
    return Catalog([_record(d) for d in corpus.documents], [c for d in corpus.documents for c in d.clauses])


def older_payment_regulation(folder: Path) -> Path:
    """The 2020 text, made from the real 2025 one: no 2025 revision line, in force from 2020-09-01."""
    text = PAYMENT.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if "2025年3月17日" not in line]
    older = "\n".join(lines).replace("本条例自2025年6月1日起施行", "本条例自2020年9月1日起施行")
    assert older != text and "2025年" not in older.split("<!-- INFO END -->")[0]
    path = folder / "保障中小企业款项支付条例(2020).md"
    path.write_text(older, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def real() -> Catalog:
    return catalog_of(PROJECT_SOURCES, *([SHARED_RELATED] if SHARED_RELATED.is_dir() else []))


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> Catalog:
    folder = tmp_path_factory.mktemp("older")
    older_payment_regulation(folder)
    return catalog_of(PROJECT_SOURCES, SHARED_RELATED, folder)


def _status(validity: Validity, title: str) -> list[str]:
    return [validity.of_doc(d).standing.status for d in validity.catalog.documents if d.title == title]


def _day_from_env(monkeypatch, value: str) -> date:
    monkeypatch.setenv("KB_TODAY", value)
    return ValiditySteps(Settings().today).day()


@needs_related
def test_on_2024_01_01_the_plan_is_in_force_and_the_2025_regulation_not_yet(real, monkeypatch):
    v = Validity(real, _day_from_env(monkeypatch, "2024-01-01"))
    assert _status(v, PLAN) == ["in_force"]
    assert _status(v, "保障中小企业款项支付条例") == ["not_yet_in_force"]
    assert _status(v, "中华人民共和国中小企业促进法") == ["in_force"]


@needs_related
def test_on_2026_12_01_the_plan_is_expired_and_the_regulation_in_force(real, monkeypatch):
    v = Validity(real, _day_from_env(monkeypatch, "2026-12-01"))
    [plan] = [v.of_doc(d).standing for d in real.documents if d.title == PLAN]
    assert (plan.status, plan.label) == ("expired", "规划期已届满")
    assert (plan.effective_from, plan.effective_until, plan.version) == ("2021-01-01", "2025-12-31", None)
    assert _status(v, "保障中小企业款项支付条例") == ["in_force"]


def test_a_reference_date_that_is_no_date_says_what_to_write():
    with pytest.raises(InvalidReferenceDate, match="YYYY-MM-DD"):
        reference_day("2024-13-01")
    assert reference_day(None, date(2024, 1, 1)) == date(2024, 1, 1)
    assert reference_day("2025-06-01", date(2024, 1, 1)) == date(2025, 6, 1)


@needs_related
def test_of_two_versions_the_later_supersedes_the_earlier_once_it_takes_effect(two_versions):
    title = "保障中小企业款项支付条例"
    before, after = Validity(two_versions, date(2024, 1, 1)), Validity(two_versions, date(2026, 12, 1))
    by_from = lambda v: {v.of_doc(d).standing.effective_from: v.of_doc(d).standing  # noqa: E731
                         for d in two_versions.documents if d.title == title}
    old, new = by_from(before)["2020-09-01"], by_from(before)["2025-06-01"]
    assert (old.status, new.status) == ("in_force", "not_yet_in_force")
    assert old.effective_until == "2025-05-31" and (old.version, new.version) == ("2020年公布", "2025年修订")
    old, new = by_from(after)["2020-09-01"], by_from(after)["2025-06-01"]
    assert (old.status, old.label, new.status) == ("superseded", "已被修订", "in_force")
    assert old.cite("《保障中小企业款项支付条例》第五章 第十条") == "《保障中小企业款项支付条例》（2020年公布版，已被修订）第五章 第十条"


def test_a_regulation_repealed_by_its_sidecar(tmp_path):
    (tmp_path / "某市中小企业服务条例.md").write_text(
        "# 某市中小企业服务条例\n\n2019年6月1日 某市人民代表大会常务委员会通过\n\n<!-- INFO END -->\n\n"
        "第一条 为了促进中小企业发展，制定本条例。\n\n第二条 本条例适用于本市。\n\n第三条 本条例自2019年9月1日起施行。\n",
        encoding="utf-8")
    (tmp_path / "某市中小企业服务条例.md.meta.toml").write_text(
        'repealed_on = 2024-01-01\nsuperseded_by = "某市民营经济促进条例"\n', encoding="utf-8")
    catalog = catalog_of(tmp_path)
    [doc] = catalog.documents
    assert Validity(catalog, date(2023, 12, 31)).of_doc(doc).standing.status == "in_force"
    gone = Validity(catalog, date(2024, 1, 1)).of_doc(doc).standing
    assert (gone.status, gone.label, gone.effective_until) == ("repealed", "已废止", "2023-12-31")
    assert gone.cite("《某市中小企业服务条例》第二条") == "《某市中小企业服务条例》（已于2024年1月1日废止）第二条"


def _answer_from(catalog: Catalog, *clause_ids: str) -> Answer:
    """An extractive answer quoting the first sentence of each clause, the way kb.compose writes one."""
    citations, parts = [], []
    for n, cid in enumerate(clause_ids, start=1):
        clause = catalog.by_id[cid]
        sentence = clause.text.split("。")[0] + "。"
        citations.append(Citation(n, clause, 1.0 - n / 10, (sentence,)))
        parts.append(f"{sentence}[{n}]")
    return Answer("问题", "\n".join(parts), False, citations)


@needs_related
def test_an_answer_from_the_expired_plan_gets_one_notice_naming_its_period(real):
    answer = annotate(_answer_from(real, "plan/ch3/s1/item7", "中小企业促进法/art15"), Validity(real, date(2026, 12, 1)))
    assert [c.standing.status for c in answer.citations] == ["expired", "in_force"]
    [notice] = answer.notices
    assert "2021—2025年" in notice and "届满" in notice
    assert answer.to_json()["citations"][0]["effective_until"] == "2025-12-31"


@needs_related
def test_the_version_in_force_is_cited_first_and_quoted_instead_of_its_identical_old_text(two_versions):
    old_id, new_id = "保障中小企业款项支付条例（2020年公布）/art8", "保障中小企业款项支付条例/art8"
    answer = _answer_from(two_versions, old_id, new_id)   # the retrieval ranked the old text first
    quoted = answer.citations[0].supporting
    answer = annotate(answer, Validity(two_versions, date(2026, 12, 1)))
    first, second = answer.citations[:2]
    assert (first.clause.id, first.marker, first.standing.effective_from) == (new_id, 1, "2025-06-01")
    assert (second.clause.id, second.standing.status) == (old_id, "superseded")
    assert second.label.startswith("《保障中小企业款项支付条例》（2020年公布版，已被修订）")
    assert answer.text == f"{quoted[0]}[1]" and first.supporting == quoted and second.supporting == ()
    assert answer.notices == []   # nothing is drawn from the old text any more


@needs_related
@pytest.mark.parametrize("question, day, kind_of_answer", [
    ("这个规划现在还有效吗？", date(2026, 12, 1), ["规划期已届满", "2021—2025年"]),
    ("这个规划现在还有效吗？", date(2024, 1, 1), ["现行有效", "2021—2025年"]),
    ("款项支付条例什么时候开始施行？", date(2024, 1, 1), ["2025年6月1日", "尚未施行"]),
    ("中小企业促进法最近一次修订是哪一年？", date(2026, 12, 1), ["2017年", "修订"]),
])
def test_validity_questions_are_answered_from_the_dates_and_cited_to_the_document(real, question, day, kind_of_answer):
    answer = answer_validity(question, None, real, Validity(real, day))
    assert answer is not None and answer.mode == "metadata" and not answer.refused
    assert all(words in answer.text for words in kind_of_answer), answer.text
    assert answer.text.endswith("[1]") and answer.citations[0].clause.doc_title in answer.text


@needs_related
def test_the_payment_regulation_question_is_cited_to_the_article_that_sets_the_date(real):
    answer = answer_validity("款项支付条例什么时候开始施行？", None, real, Validity(real, date(2024, 1, 1)))
    cited = answer.citations[0]
    assert cited.clause.id == "保障中小企业款项支付条例/art37" and cited.supporting == ("本条例自2025年6月1日起施行。",)


@needs_related
def test_which_documents_are_in_force_lists_every_document_with_its_status(real):
    answer = answer_validity("现在有效的文件有哪些？", None, real, Validity(real, date(2026, 12, 1)))
    lines = answer.text.splitlines()
    assert "6份文件，其中5份现行有效" in lines[0]
    assert len(answer.citations) == 6 and all("现行有效" in line for line in lines[1:6])
    assert PLAN in lines[6] and "规划期已届满" in lines[6]


@needs_related
@pytest.mark.parametrize("question", [
    "小微企业贷款难，有什么支持？",
    "怎么减肥最有效？",
    "济南有没有出台自己的优化营商环境条例？哪年开始施行的",   # a place no document is about: the refusal decides
    "规划中有哪些有效的融资措施？",
])
def test_other_questions_go_to_retrieval(real, question):
    assert answer_validity(question, None, real, Validity(real, date(2026, 12, 1))) is None


@needs_related
def test_an_english_question_gets_its_notice_in_english(real):
    answer = _answer_from(real, "plan/ch3/s1/item7")
    answer.question = "How does the plan help small firms get loans?"
    [notice] = annotate(answer, Validity(real, date(2026, 12, 1))).notices
    assert "2021—2025" in notice and "has ended" in notice
