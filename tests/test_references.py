"""Reference lookup: the forms officials type resolve to the right clause (real documents, no index needed)."""
from __future__ import annotations

from datetime import datetime

import pytest
from conftest import needs_related

from ingest.loader import load_corpus
from ingest.numerals import cn_numeral_to_int, int_to_cn_numeral
from kb.catalog import Catalog, DocRecord
from kb.references import parse_references, resolve

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def catalog(full_sources):
    docs = load_corpus(full_sources).documents
    records = [DocRecord(d.key, d.title, d.short_title, d.kind, d.issuer, d.date, str(d.path), "-",
                         datetime.now().isoformat(), len(d.clauses)) for d in docs]
    return Catalog(records, [c for d in docs for c in d.clauses])


def first_id(text: str, catalog: Catalog) -> str | None:
    refs = parse_references(text)
    assert refs, f"no reference found in {text!r}"
    found = resolve(refs[0], catalog).clauses
    return found[0].id if found else None


PLAN_FORMS = [
    ("第7条", "plan/ch3/s1/item7"), ("第七条", "plan/ch3/s1/item7"), ("第７条", "plan/ch3/s1/item7"),
    ("规划第二十八条", "plan/ch3/s3/item28"), ("规划第28条", "plan/ch3/s3/item28"),
    ("《规划》第44条", "plan/ch3/s5/item44"), ("十四五规划第十条", "plan/ch3/s2/item10"),
    ("第三章第五节第43条", "plan/ch3/s5/item43"), ("第三章 第五节 第四十三条", "plan/ch3/s5/item43"),
    ("第一条", "plan/ch3/s1/item1"), ("第7条讲的什么", "plan/ch3/s1/item7"), ("请给我第四十条全文", "plan/ch3/s5/item40"),
    ("专栏5", "plan/ch3/s3/box5"), ("专栏五", "plan/ch3/s3/box5"), ("专栏 7", "plan/ch3/s4/box7"),
    ("专栏8的内容", "plan/ch3/s5/box8"), ("第二章第三节", "plan/ch2/s3/lead"), ("第四章第三节", "plan/ch4/s3/topic1"),
    ("第一章", "plan/ch1/s1/lead"), ("item 7", "plan/ch3/s1/item7"), ("Item 28 of the plan", "plan/ch3/s3/item28"),
    ("box 6", "plan/ch3/s3/box6"),
]
LAW_FORMS = [
    ("中小企业促进法第十条", "中小企业促进法/art10"), ("中小企业促进法第10条", "中小企业促进法/art10"),
    ("《中华人民共和国中小企业促进法》第六十一条", "中小企业促进法/art61"),
    ("保障中小企业款项支付条例第九条", "保障中小企业款项支付条例/art9"), ("款项支付条例第17条", "保障中小企业款项支付条例/art17"),
    ("优化营商环境条例第三十条", "优化营商环境条例/art30"), ("营商环境条例第一百条", None),
    ("青岛市优化营商环境条例第二十五条", "青岛市优化营商环境条例/art25"),
    ("山东省民营经济发展促进条例第二十八条", "山东省民营经济发展促进条例/art28"),
    ("Article 10 of the SME Promotion Law", "中小企业促进法/art10"),
    ("Article 25 of the Qingdao business environment regulation", "青岛市优化营商环境条例/art25"),
]


@pytest.mark.parametrize("text,expected", PLAN_FORMS)
def test_plan_references(text, expected, catalog):
    assert first_id(text, catalog) == expected


@needs_related
@pytest.mark.parametrize("text,expected", LAW_FORMS)
def test_law_references(text, expected, catalog):
    assert first_id(text, catalog) == expected


@needs_related
def test_bare_article_prefers_the_plan_then_lists_the_laws(catalog):
    found = resolve(parse_references("第十条")[0], catalog).clauses
    assert found[0].id == "plan/ch3/s2/item10"
    assert {c.id for c in found[1:]} >= {"中小企业促进法/art10", "优化营商环境条例/art10"}


@needs_related
def test_unknown_references_say_what_exists(catalog):
    res = resolve(parse_references("第50条")[0], catalog)
    assert res.message.startswith("规划共44条，没有第50条")
    assert all(c.article == 50 for c in res.clauses)
    res = resolve(parse_references("中小企业促进法第七十条")[0], catalog)
    assert res.clauses == [] and res.message == "《中华人民共和国中小企业促进法》共61条，没有第七十条。"
    assert resolve(parse_references("专栏9")[0], catalog).message == "规划共有专栏8个，没有专栏9。"


def test_ordinals_and_numbers_in_a_question_are_not_references():
    for question in ("小微企业贷款难，有什么支持？", "企业第一次申请贷款有什么支持？", "第二批专精特新企业名单出了吗？",
                     "2025年第三季度的目标是多少？"):
        assert parse_references(question) == [], question
    # a reference inside a longer question still is one, with the words before it as the document hint
    (ref,) = parse_references("按中小企业促进法第十条，基金投向哪里？")
    assert ref.number == 10 and "中小企业促进法" in ref.doc_hint


@pytest.mark.parametrize("text,value", [("十", 10), ("十三", 13), ("二十一", 21), ("一百零二", 102),
                                        ("一百一十", 110), ("两千", 2000), ("二〇二五", 2025), ("44", 44),
                                        ("４４", 44), ("六十一", 61), ("九十九", 99), ("一千零一", 1001)])
def test_cn_numerals(text, value):
    assert cn_numeral_to_int(text) == value


def test_cn_numerals_round_trip():
    for n in range(1, 400):
        assert cn_numeral_to_int(int_to_cn_numeral(n)) == n
    assert int_to_cn_numeral(10) == "十" and int_to_cn_numeral(102) == "一百零二"
    with pytest.raises(ValueError):
        cn_numeral_to_int("第十")
