"""The structure parser on the real plan, the related laws, and the fixtures in tests/data."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, PLAN_TITLE, PLAN_TXT, ROOT, needs_related

from ingest.loader import load_corpus, load_document
from ingest.model import Block, SourceText
from ingest.sources import SHARED_RELATED
from ingest.structure import parse_source

pytestmark = pytest.mark.unit

ITEM_SECTIONS = {1: range(1, 9), 2: range(9, 22), 3: range(22, 30), 4: range(30, 40), 5: range(40, 45)}
BOX_SECTIONS = {1: 2, 2: 2, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 5}


@pytest.fixture(scope="module")
def plan():
    return load_document(PLAN_TXT)


def _items(doc):
    return [c for c in doc.clauses if c.kind == "item"]


def _boxes(doc):
    return [c for c in doc.clauses if c.kind == "box"]


def test_plan_metadata(plan):
    assert plan.title == PLAN_TITLE
    assert plan.kind == "plan" and plan.key == "plan"
    assert plan.issuer == "青岛市民营经济发展局" and plan.date == "2021-06-30"


def test_plan_has_four_chapters_and_chapter_three_without_its_heading(plan):
    chapters = {c.chapter: c.chapter_title for c in plan.clauses if c.chapter}
    assert sorted(chapters) == [1, 2, 3, 4]
    assert chapters[3] == "主要任务和行动措施"


def test_items_1_to_44_once_in_order_in_their_sections(plan):
    items = _items(plan)
    assert [c.item for c in items] == list(range(1, 45))
    for section, numbers in ITEM_SECTIONS.items():
        assert [c.item for c in items if c.section == section] == list(numbers)
    assert all(c.chapter == 3 for c in items)


def test_boxes_1_to_8_once_in_their_sections(plan):
    boxes = _boxes(plan)
    assert [c.box for c in boxes] == list(range(1, 9))
    assert {c.box: c.section for c in boxes} == BOX_SECTIONS


def test_no_clause_contains_another_items_opening(plan):
    openings = {c.item: c.text[:12] for c in _items(plan)}
    for clause in plan.clauses:
        for number, opening in openings.items():
            if clause.item != number:
                assert opening not in clause.text, f"{clause.id} contains the opening of item {number}"


def test_item_title_and_label(plan):
    item7 = next(c for c in plan.clauses if c.item == 7)
    assert item7.id == "plan/ch3/s1/item7"
    assert item7.title == "完善融资机制"
    assert item7.label == f"《{PLAN_TITLE}》第三章第一节 第7条「完善融资机制」"
    assert item7.section_title == "营造良好发展环境，争创全国民营经济示范城市"


def test_split_section_headings_are_joined(plan):
    titles = {(c.chapter, c.section): c.section_title for c in plan.clauses if c.section}
    assert titles[(3, 2)] == "优化空间布局，构建现代产业体系"
    assert titles[(3, 3)] == "激发创新创业活力，增强发展内生动力"


def test_box6_keeps_its_own_list(plan):
    box6 = next(c for c in plan.clauses if c.box == 6)
    assert "1.鼓励民营企业参与5G网络" in box6.text and "2.参与山东省" in box6.text
    assert next(c for c in plan.clauses if c.item == 26).text.startswith("加快产业数字化")


def test_box7_district_table_reads_as_rows(plan):
    box7 = next(c for c in plan.clauses if c.box == 7)
    lines = box7.text.splitlines()
    assert "市南区：旅游、金融保险、电信计算机和信息、文化娱乐、其他商业服务" in lines
    assert "西海岸新区（含自贸片区）：运输、旅游、电信计算机和信息、文化娱乐、其他商业服务、维护维修" in lines
    assert "莱西市：其他商业服务" in lines


def test_goals_and_topics_are_their_own_clauses(plan):
    goals = [c for c in plan.clauses if (c.chapter, c.section) == (2, 3) and c.kind == "topic"]
    assert [g.title for g in goals][:2] == ["经济规模不断扩大", "经济结构持续优化"]
    assert all(len(g.text) < 400 for g in goals)
    topics = [c.title for c in plan.clauses if (c.chapter, c.section) == (4, 3)]
    assert topics == ["强化资金保障", "强化土地保障", "强化人才保障"]
    assert next(g for g in goals if g.title == "经济规模不断扩大").label.endswith("第二章第三节「经济规模不断扩大」")


def test_clause_ids_are_unique_and_stable(plan):
    ids = [c.id for c in plan.clauses]
    assert len(ids) == len(set(ids))
    assert ids == [c.id for c in load_document(PLAN_TXT).clauses]


@needs_related
def test_related_laws_article_counts_and_chapters():
    corpus = load_corpus([SHARED_RELATED])
    counts = {d.short_title: len(d.clauses) for d in corpus.documents}
    assert counts == {"中小企业促进法": 61, "优化营商环境条例": 72, "保障中小企业款项支付条例": 37,
                      "山东省民营经济发展促进条例": 50, "青岛市优化营商环境条例": 56}
    for doc in corpus.documents:
        assert [c.article for c in doc.clauses] == list(range(1, len(doc.clauses) + 1))
        chapters = [c.chapter for c in doc.clauses]
        assert chapters == sorted(chapters) and set(chapters) == set(range(1, max(chapters) + 1))
    law = next(d for d in corpus.documents if d.short_title == "中小企业促进法")
    art10 = next(c for c in law.clauses if c.article == 10)
    assert art10.id == "中小企业促进法/art10"
    assert art10.label == "《中华人民共和国中小企业促进法》第二章 第十条"
    assert law.date == "2017-09-01" and "全国人民代表大会常务委员会" in law.issuer
    # The preamble is metadata, not a clause; 款 stay inside the article as lines.
    assert all("会议通过" not in c.text for c in law.clauses[:1])
    assert "\n" in art10.text


@needs_related
def test_missing_chapter_label_is_recovered():
    doc = load_document(SHARED_RELATED / "山东省民营经济发展促进条例(2021).md")
    assert {c.chapter: c.chapter_title for c in doc.clauses}[4] == "融资促进"


def test_pdf_yields_same_items_boxes_and_pages():
    truth = json.loads((DATA / "plan.pdf.pages.json").read_text(encoding="utf-8"))
    doc = load_document(DATA / "plan.pdf")
    items, boxes = _items(doc), _boxes(doc)
    assert [c.item for c in items] == list(range(1, 45))
    assert [c.box for c in boxes] == list(range(1, 9))
    assert {str(c.item): c.page for c in items} == {k: v for k, v in truth["items"].items()}
    assert {str(c.box): c.page for c in boxes} == {k: v for k, v in truth["boxes"].items()}
    txt = {c.id: c.text for c in load_document(PLAN_TXT).clauses}
    for c in items + boxes:
        assert c.text == txt[c.id], c.id
        assert "— " not in c.text and PLAN_TITLE not in c.text


def test_gb18030_law_with_cross_reference_and_wrapped_article_reference():
    doc = load_document(DATA / "law_gb18030.txt")
    assert doc.encoding == "gb18030" and doc.kind == "regulation"
    assert doc.title.startswith("某市小微企业服务促进条例")
    assert [c.article for c in doc.clauses] == list(range(1, len(doc.clauses) + 1))
    assert any("第五条规定的" in c.text for c in doc.clauses)


def test_big5_regulation_parses_traditional_headings():
    doc = load_document(DATA / "law_big5.txt")
    assert doc.encoding == "big5" and doc.clauses
    assert all(c.article for c in doc.clauses)


def test_docx_excerpt_items_and_table():
    doc = load_document(DATA / "plan_excerpt.docx")
    assert [c.item for c in doc.clauses if c.kind == "item"] == [7, 8, 34, 35]
    box = next(c for c in doc.clauses if c.kind == "box")
    assert "市南区：旅游" in box.text


def test_bad_files_are_reported_and_the_rest_still_ingest(tmp_path):
    for name in ("encrypted.pdf", "scanned.pdf", "corrupt.pdf", "empty.txt", "binary.txt"):
        (tmp_path / name).write_bytes((DATA / name).read_bytes())
    (tmp_path / "plan.txt").write_bytes(PLAN_TXT.read_bytes())
    corpus = load_corpus([tmp_path])
    assert [d.title for d in corpus.documents] == [PLAN_TITLE]
    assert len(corpus.errors) == 5
    for name in ("encrypted.pdf", "scanned.pdf", "corrupt.pdf", "empty.txt", "binary.txt"):
        assert any(name in e for e in corpus.errors), name


def test_invented_document_parses_without_code_changes():
    lines = ["某区促进小店经济发展三年行动方案", "第一章 总体要求", "第一节 发展目标", "到2027年，培育特色小店500家。",
             "第二章 重点任务", "第一节 优化布局", "1.建设特色街区。每个街道建设1条特色街区。",
             "2.完善便民网点。本方案第三条规定的网点优先布局。", "专栏1：重点街区", "中山路：餐饮、零售",
             "台东：零售、娱乐", "李村：餐饮", "第二节 强化服务", "3.优化审批。小店开办1个工作日办结。"]
    doc = parse_source(SourceText(Path("方案.txt"), [Block(t) for t in lines]))
    assert doc.kind == "plan" and doc.title == "某区促进小店经济发展三年行动方案"
    assert [c.item for c in doc.clauses if c.item] == [1, 2, 3]
    assert next(c for c in doc.clauses if c.item == 3).section == 2
    assert next(c for c in doc.clauses if c.box == 1).text.splitlines()[0] == "中山路：餐饮、零售"


def test_cli_prints_outline_and_json():
    out = subprocess.run([sys.executable, "-m", "ingest", "--source", str(PLAN_TXT)], capture_output=True,
                         text=True, cwd=ROOT, check=True).stdout
    assert "第三章 主要任务和行动措施" in out and "7. 完善融资机制" in out and "专栏5" in out
    lines = subprocess.run([sys.executable, "-m", "ingest", "--source", str(PLAN_TXT), "--json"],
                           capture_output=True, text=True, cwd=ROOT, check=True).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    assert set(rows[0]) == {"id", "doc_title", "doc_kind", "chapter", "chapter_title", "section", "section_title",
                            "item", "box", "article", "title", "text", "page", "label"}
    assert sum(1 for r in rows if r["item"]) == 44
    assert re.search(r"第7条「完善融资机制」", next(r["label"] for r in rows if r["item"] == 7))
