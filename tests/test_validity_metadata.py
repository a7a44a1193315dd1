"""Dates read at ingest from the documents themselves (ingest.validity) and from sidecar files
(ingest.sidecar): the real plan and laws, the fixtures in tests/data, and synthetic texts."""
from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loader import load_corpus, load_document
from ingest.sources import PROJECT_SOURCES, SHARED_RELATED

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parent / "data"
PLAN_TXT = PROJECT_SOURCES / "青岛市十四五民营经济和中小企业发展规划.txt"
needs_related = pytest.mark.skipif(not SHARED_RELATED.is_dir(),
                                   reason=f"related laws not found at {SHARED_RELATED} (a fresh machine without ../shared)")

NOTICE = """关于进一步支持小微企业纾困发展的通知

各区、市人民政府，市政府各部门，市直各单位：

为进一步支持小微企业纾困发展，现就有关事项通知如下：

一、加大融资支持力度。鼓励金融机构增加小微企业信贷投放，对符合条件的小微企业贷款给予贴息。

二、减轻企业负担。对小微企业的房租、水电给予阶段性减免。

三、本通知自印发之日起施行，有效期至2025年12月31日。

青岛市人民政府办公厅
2023年5月10日
"""

PLAN_WITH_PERIOD = """某市数字经济发展规划（2023—2027年）

前言

“十三五”期间，我市数字经济快速发展。本规划依据《某市国民经济和社会发展第十四个五年规划》编制。

第一章 发展基础

第一节 主要成就

1.数字产业化加快。全市数字经济核心产业增加值持续增长。
"""

REGULATION = """# 某市中小企业服务条例

2019年6月1日 某市第十五届人民代表大会常务委员会第十次会议通过

<!-- INFO END -->

第一条 为了促进中小企业发展，制定本条例。

第二条 本条例适用于本市行政区域。

第三条 本条例自2019年9月1日起施行。
"""


@pytest.fixture(scope="module")
def plan():
    return load_document(PLAN_TXT)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_plan_gives_its_issuer_issue_date_and_the_period_of_the_fourteenth_five_year_plan(plan):
    d = plan.dates
    assert plan.kind == "plan" and plan.issuer == "青岛市民营经济发展局"
    assert d.issued == "2021-06-30" and d.period == (2021, 2025)
    assert (d.effective_from, d.effective_until) == ("2021-01-01", "2025-12-31")
    assert d.revisions == () and d.repealed_on is None


def test_the_plan_pdf_gives_the_same_dates_as_its_text(plan):
    pdf = load_document(DATA / "plan.pdf")
    assert pdf.dates.period == plan.dates.period and pdf.dates.issued == plan.dates.issued
    assert pdf.issuer == plan.issuer


def test_an_excerpt_without_front_matter_gets_no_invented_dates():
    docx = load_document(DATA / "plan_excerpt.docx")
    d = docx.dates
    assert (d.issued, d.effective_from, d.effective_until, d.period, d.events) == (None, None, None, None, ())


def test_the_gb18030_regulation_is_adopted_on_its_preamble_date_and_in_force_from_its_last_article():
    law = load_document(DATA / "law_gb18030.txt")
    d = law.dates
    assert law.kind == "regulation" and "人民代表大会常务委员会" in law.issuer
    assert [(e.date, e.action) for e in d.events] == [("2023-03-01", "通过")]
    assert d.issued == "2023-03-01" and d.effective_from == "2023-06-01"
    assert d.evidence == f"{law.key}/art8"   # the article that says so, cited by validity answers


@needs_related
@pytest.mark.parametrize("stem, kind, events, effective, version", [
    ("中华人民共和国中小企业促进法(2017修订)", "law",
     [("2002-06-29", "通过"), ("2017-09-01", "修订")], "2018-01-01", "2017年修订"),
    ("优化营商环境条例(2019)", "regulation",
     [("2019-10-08", "通过"), ("2019-10-22", "公布"), ("2020-01-01", "施行")], "2020-01-01", "2019年公布"),
    ("保障中小企业款项支付条例(2025修订)", "regulation",
     [("2020-07-05", "公布"), ("2025-03-17", "修订")], "2025-06-01", "2025年修订"),
    ("山东省民营经济发展促进条例(2021)", "regulation", [("2021-07-29", "通过")], "2022-01-01", "2021年通过"),
    ("青岛市优化营商环境条例(2021)", "regulation",
     [("2020-11-18", "通过"), ("2021-01-28", "批准")], "2021-03-01", "2020年通过"),
])
def test_each_law_gives_its_preamble_events_its_effective_date_and_its_version(stem, kind, events, effective, version):
    doc = load_document(SHARED_RELATED / f"{stem}.md")
    d = doc.dates
    assert doc.kind == kind
    assert [(e.date, e.action) for e in d.events] == events
    assert d.effective_from == effective and d.version == version
    assert d.period is None and d.effective_until is None
    evidence = next(c for c in doc.clauses if c.id == d.evidence)
    assert f"{int(effective[:4])}年" in evidence.text and "施行" in evidence.text


def test_a_revision_in_a_one_line_preamble_is_one_event_per_date(tmp_path):
    text = ("某市企业权益保护条例\n（2010年5月20日某市第十三届人民代表大会常务委员会第十八次会议通过　"
            "根据2018年11月29日某市第十五届人民代表大会常务委员会第七次会议《关于修改部分地方性法规的决定》修正）\n"
            "第一条 为了保护企业合法权益，制定本条例。\n第二条 本条例适用于本市。\n第三条 本条例自2010年7月1日起施行。\n")
    doc = load_document(_write(tmp_path, "条例.txt", text))
    assert [(e.date, e.action, e.kind) for e in doc.dates.events] == [
        ("2010-05-20", "通过", "adopted"), ("2018-11-29", "修正", "revised")]
    assert doc.dates.version == "2018年修正" and [e.date for e in doc.dates.revisions] == ["2018-11-29"]


def test_a_notice_in_force_from_the_day_it_was_issued(tmp_path):
    doc = load_document(_write(tmp_path, "通知.txt", NOTICE))
    d = doc.dates
    assert doc.kind == "notice" and doc.title == "关于进一步支持小微企业纾困发展的通知"
    assert doc.issuer == "青岛市人民政府办公厅"
    assert d.issued == "2023-05-10"                                  # the signature date
    assert d.effective_from == "2023-05-10"                          # 「自印发之日起施行」
    assert d.effective_until == "2025-12-31"                         # 「有效期至2025年12月31日」
    # The notice is ingested, its numbered paragraphs citable; the signature is not a clause.
    assert [c.title for c in doc.clauses if c.kind == "topic"][:2] == ["加大融资支持力度", "减轻企业负担"]
    assert not any("2023年5月10日" in c.text for c in doc.clauses)


def test_a_validity_counted_in_years_ends_the_day_before_the_anniversary(tmp_path):
    text = NOTICE.replace("有效期至2025年12月31日", "有效期3年")
    assert load_document(_write(tmp_path, "通知.txt", text)).dates.effective_until == "2026-05-09"


def test_a_plan_with_an_explicit_period_takes_it_over_the_five_year_plans_its_preface_mentions(tmp_path):
    doc = load_document(_write(tmp_path, "规划.txt", PLAN_WITH_PERIOD))
    assert doc.kind == "plan" and doc.dates.period == (2023, 2027)
    assert (doc.dates.effective_from, doc.dates.effective_until) == ("2023-01-01", "2027-12-31")


def test_a_plan_named_only_in_its_preface_takes_that_five_year_plan_not_the_previous_one(tmp_path):
    text = PLAN_WITH_PERIOD.replace("（2023—2027年）", "").replace(
        "“十三五”期间，我市数字经济快速发展。", "“十五五”时期是数字经济发展的关键期。")
    assert load_document(_write(tmp_path, "规划.txt", text)).dates.period == (2026, 2030)


def test_a_sidecar_says_a_regulation_was_repealed_and_by_what(tmp_path):
    source = _write(tmp_path, "某市中小企业服务条例(2019).md", REGULATION)
    _write(tmp_path, "某市中小企业服务条例(2019).md.meta.toml",
           'repealed_on = 2024-01-01\nsuperseded_by = "《某市民营经济促进条例》"\n')
    d = load_document(source).dates
    assert d.repealed_on == "2024-01-01" and d.superseded_by == "《某市民营经济促进条例》"
    assert d.effective_from == "2019-09-01"          # what the text says is kept
    assert d.sidecar == "某市中小企业服务条例(2019).md.meta.toml"


def test_a_sidecar_named_after_the_stem_corrects_a_date(tmp_path):
    source = _write(tmp_path, "某市中小企业服务条例.md", REGULATION)
    _write(tmp_path, "某市中小企业服务条例.meta.toml", 'effective_from = "2019-10-01"\n')
    d = load_document(source).dates
    assert d.effective_from == "2019-10-01" and d.evidence is None   # the article no longer says the date


@pytest.mark.parametrize("sidecar, says", [
    ("repealed_on = 2024-01-01\nrepealed = true\n", "不认识的字段「repealed」"),
    ('repealed_on = "next year"\n', "repealed_on 应为日期"),
    ("repealed_on = \n", "不是有效的 TOML"),
    ("period = [2025]\n", "period 应为起止年份"),
])
def test_a_sidecar_that_cannot_be_used_is_reported_and_the_document_still_ingested(tmp_path, sidecar, says):
    _write(tmp_path, "某市中小企业服务条例.md", REGULATION)
    _write(tmp_path, "某市中小企业服务条例.md.meta.toml", sidecar)
    corpus = load_corpus([tmp_path])
    [doc] = corpus.documents
    assert doc.dates.repealed_on is None and doc.dates.effective_from == "2019-09-01"
    [warning] = [w for w in corpus.warnings if ".meta.toml" in w]
    assert says in warning and "已忽略" in warning


def test_sidecars_and_this_readme_are_never_documents(tmp_path):
    _write(tmp_path, "某市中小企业服务条例.md", REGULATION)
    _write(tmp_path, "某市中小企业服务条例.md.meta.toml", "repealed_on = 2024-01-01\n")
    _write(tmp_path, "README.md", "# Source documents\n\n第一条 说明。\n第二条 说明。\n第三条 说明。\n")
    assert [d.title for d in load_corpus([tmp_path]).documents] == ["某市中小企业服务条例"]


def test_two_versions_of_one_title_get_distinct_clause_ids(tmp_path):
    old = REGULATION.replace("本条例自2019年9月1日起施行", "本条例自2019年7月1日起施行")
    new = REGULATION.replace("<!-- INFO END -->", "2022年3月1日 某市第十六届人民代表大会常务委员会第五次会议修订\n\n<!-- INFO END -->")
    _write(tmp_path, "a(2019).md", old)
    _write(tmp_path, "b(2022修订).md", new)
    docs = load_corpus([tmp_path]).documents
    assert [d.title for d in docs] == ["某市中小企业服务条例"] * 2
    assert [d.key for d in docs] == ["某市中小企业服务条例", "某市中小企业服务条例（2022年修订）"]
    assert not {c.id for c in docs[0].clauses} & {c.id for c in docs[1].clauses}
