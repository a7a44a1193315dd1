"""The vocabulary files: they load, every mapping points to words the corpus uses, a deployment extends them."""
from __future__ import annotations

import re
from functools import lru_cache

import pytest
from conftest import needs_related

from kb.lexicon import BUILTIN, FILES, load_lexicon, read_files
from kb.text import fold_width

pytestmark = pytest.mark.unit


@lru_cache(maxsize=1)
def corpus() -> str:
    from ingest.loader import load_corpus
    from ingest.sources import default_sources

    docs = load_corpus(default_sources()).documents
    return fold_width("\n".join(f"{c.title}\n{c.text}" for d in docs for c in d.clauses))


@needs_related
@pytest.mark.parametrize("name", ["colloquial", "english"])
def test_every_mapping_points_to_terms_the_corpus_uses(name):
    entries = read_files()[name]["entry"]
    unused = [(e["cues"][0], t) for e in entries for t in e["terms"] if t not in corpus()]
    assert not unused, f"{name}.toml maps to words no clause holds: {unused}"


@needs_related
def test_every_english_title_alias_names_a_document():
    from ingest.loader import load_corpus
    from ingest.sources import default_sources

    titles = "\n".join(d.title for d in load_corpus(default_sources()).documents)
    missing = [a["zh"] for a in read_files()["documents"]["alias"] if a["zh"] not in titles]
    assert not missing


def test_no_cue_is_listed_twice_within_a_file():
    for name in ("colloquial", "english"):
        cues = [c for e in read_files()[name]["entry"] for c in e["cues"]]
        assert len(cues) == len(set(cues)), [c for c in cues if cues.count(c) > 1]


def test_cues_match_words_not_parts_of_words():
    lex = load_lexicon()
    assert "贷款" in lex.implied_terms("How can a small firm get a loan?")
    assert "贷款" in lex.implied_terms("loans for SMEs")
    assert "融资" in lex.implied_terms("financing options")      # financ* is a prefix cue
    assert "支付" not in lex.implied_terms("payroll software")    # pay is a whole word
    assert "融资" in lex.implied_terms("借钱太难了") and "智能审批" in lex.implied_terms("登记能不能系统自动批")
    assert lex.implied_terms("政府采购预留份额") == []


def test_answer_types_and_question_shapes():
    lex = load_lexicon()
    assert [t.name for t in lex.asked_types("办执照要多久？") if t.name != "quantity"] == ["duration"]
    assert "money" in [t.name for t in lex.asked_types("奖励多少钱？")]
    assert lex.answer_type("date").held_by("本条例自2025年6月1日起施行。")
    assert lex.answer_type("date").held_by("付款期限自中小企业交付货物之日起算。")


def test_the_asked_kind_of_value_is_read_from_the_asking_clause():
    lex = load_lexicon()

    def names(question):
        return {t.name for t in lex.asked_types(question)}

    assert names("手上有几项专利，能不能押给银行换贷款？") == set()      # the scene, not the question
    assert names("去银行开对公账户，收多少钱、要办几天，银行有义务公开吗？") == set()
    assert "count" in names("按国家的划型标准，工业企业从业人员多少人以下算中小企业？")
    assert names("规划里说要建哪几个学院，搞培训、培育、服务三位一体？") == set()   # which ones, not how many
    assert names("好几个部门上门检查，有啥要求？") == set()
    assert names("审批要几个工作日？") == {"duration", "quantity"}
    assert "count" not in names("Within how many days must a large company pay?")
    assert "money" in names("奖励多少钱？手续麻烦吗？")                       # each part asks
    # a part that is no question sets the scene; with no question at all, each part's last clause asks
    assert lex.asking_clauses("我们厂有30来号人，去年营收800万。能不能贷款？") == ["能不能贷款"]
    assert lex.asking_clauses("we import machines from germany. does the plan support leasing?") == \
        [" does the plan support leasing"]
    assert lex.asking_clauses("小微企业贷款难") == ["小微企业贷款难"]
    assert lex.asking_clauses("，") == [] and lex.asking_clauses("？，。") == []   # nothing left to ask
    assert not lex.answer_type("money").held_by("支持小微企业融资。")
    assert lex.asks_about_document("中小企业促进法的立法目的是什么")
    assert not lex.asks_about_document("为什么中小企业贷款难")
    assert lex.is_elliptical("那小微企业呢？") and not lex.is_elliptical("专栏5")
    assert lex.question_jurisdictions("省里对民营企业有什么规定") == {"shandong"}
    assert lex.places_elsewhere("深圳对民营企业有什么补贴") == ["深圳"]


def test_every_pattern_compiles_and_files_are_complete():
    data = read_files()
    assert set(data) == set(FILES) and all((BUILTIN / f"{n}.toml").is_file() for n in FILES)
    for t in data["answer_types"]["type"]:
        for p in (*t["asks"], *t["value"]):
            re.compile(p.replace("{cn}", "一二三"))
        assert t["label"], t["name"]


def test_a_deployment_folder_extends_the_built_in_vocabulary(tmp_path):
    (tmp_path / "colloquial.toml").write_text('[[entry]]\ncues = ["搞钱"]\nterms = ["融资"]\n', encoding="utf-8")
    (tmp_path / "places.toml").write_text('[elsewhere]\nplaces = ["雄安"]\n', encoding="utf-8")
    lex = load_lexicon(tmp_path)
    assert lex.implied_terms("怎么搞钱") == ["融资"]
    assert "雄安" in lex.places_elsewhere("雄安有什么政策") and "深圳" in lex.elsewhere
    assert "搞钱" not in "".join(c for m in load_lexicon().colloquial for c in m.cues.cues)
