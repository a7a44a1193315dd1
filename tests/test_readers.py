"""The file readers, on the real fixtures in tests/data (see tests/data/make_fixtures.py)."""
from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from ingest.errors import UnreadableSource
from ingest.model import Block
from ingest.readers import Reader, reader_for
from ingest.readers.docx import DocxReader
from ingest.readers.html import HtmlReader
from ingest.readers.lines import join_wrapped
from ingest.readers.pdf import PdfReader
from ingest.readers.pdf_paragraphs import join_paragraphs, strip_page_furniture
from ingest.readers.text import TextReader

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
PLAN_TXT = Path(__file__).parents[1] / "source_docs" / "青岛市十四五民营经济和中小企业发展规划.txt"
PLAN_TITLE = "青岛市“十四五”民营经济和中小企业发展规划"
CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff]\s+[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def plan_pdf():
    return PdfReader().read(DATA / "plan.pdf")


@pytest.fixture(scope="module")
def truth():
    return json.loads((DATA / "plan.pdf.pages.json").read_text(encoding="utf-8"))


def texts(source) -> list[str]:
    return [block.text for block in source.blocks]


def unreadable(reader, path: Path) -> str:
    with pytest.raises(UnreadableSource) as caught:
        reader.read(path)
    message = str(caught.value)
    assert path.name in message
    return message


# ---------------------------------------------------------------- PDF

def test_pdf_paragraphs_are_the_plan_paragraphs(plan_pdf):
    """Headers, footers and hard wraps gone: each block is one line of the source text."""
    assert texts(plan_pdf) == texts(TextReader().read(PLAN_TXT))
    assert plan_pdf.paged and plan_pdf.encoding is None and plan_pdf.warnings == []


def test_pdf_has_no_running_header_or_page_numbers(plan_pdf):
    for text in texts(plan_pdf):
        assert text != PLAN_TITLE and not text.endswith(PLAN_TITLE) and not text.startswith(PLAN_TITLE)
        assert not re.search(r"—\s*\d+\s*—", text), text


def test_pdf_numbers_wrapped_across_lines_come_back_whole(plan_pdf, truth):
    body = "\n".join(texts(plan_pdf))
    assert "实现全市 1000家小微工业企业" in body
    assert "市 10|00家小" in truth["split_numbers"]  # the fixture really does split it
    for split in truth["split_numbers"]:
        assert split.replace("|", "") in body


def test_pdf_joins_never_put_a_space_between_chinese_characters(plan_pdf):
    source = PLAN_TXT.read_text(encoding="utf-8")
    for text in texts(plan_pdf):
        for gap in CJK_SPACE_CJK.findall(text):
            assert gap in source, f"space invented in {text[:40]}…"


def test_pdf_blocks_start_on_the_right_page(plan_pdf, truth):
    items = iter(sorted(truth["items"].items(), key=lambda kv: int(kv[0])))
    number, page = next(items)
    found = {}
    for block in plan_pdf.blocks:  # in order, so 专栏6's own "1." and "2." are not items 1 and 2
        if number and block.text.startswith(f"{number}."):
            found[number] = block.page
            number, page = next(items, (None, None))
    assert found == truth["items"]
    boxes = {m.group(1): b.page for b in plan_pdf.blocks if (m := re.match(r"专栏(\d+)", b.text))}
    assert boxes == truth["boxes"]
    pages = {b.text: b.page for b in plan_pdf.blocks}
    for heading in truth["headings"]:
        assert pages[heading["text"]] == heading["page"], heading


def test_pdf_item_opening_has_its_own_block(plan_pdf):
    seven = next(b for b in plan_pdf.blocks if b.text.startswith("7.完善融资机制"))
    assert seven.text.endswith("确保普惠型小微企业贷款增速不低于各项贷款增速。")


def test_pdf_reads_the_whole_plan_quickly():
    started = time.perf_counter()
    PdfReader().read(DATA / "plan.pdf")
    assert time.perf_counter() - started < 5  # ~0.4 s on a laptop


def test_pdf_with_only_an_owner_password_opens():
    source = PdfReader().read(DATA / "restricted.pdf")
    assert texts(source) == ["7.完善融资机制。运用信贷风险补偿、增信、贴息等方式。"]


@pytest.mark.parametrize(
    ("name", "says"),
    [("encrypted.pdf", "密码"), ("scanned.pdf", "OCR"), ("corrupt.pdf", "损坏")],
)
def test_unreadable_pdfs_say_what_to_do(name, says):
    assert says in unreadable(PdfReader(), DATA / name)


def test_a_text_file_renamed_pdf_is_not_a_pdf(tmp_path):
    fake = tmp_path / "规划.pdf"
    shutil.copy(DATA / "law_gb18030.txt", fake)
    assert "不是 PDF" in unreadable(PdfReader(), fake)


@pytest.mark.parametrize("footer", ["— {n} —", "- {n} -", "—{n}—", "第{n}页", "第 {n} 页 共 20 页", "{n}"])
def test_page_number_styles_are_dropped(footer):
    articles = ["一", "二", "三", "四"]
    bodies = [[f"第{a}条　本条例第{a}条的正文。", f"　　第{a}条第二款的正文，第{n}行。"] for n, a in enumerate(articles)]
    pages = [["某市小微企业服务促进条例（2023年修订）", *body, footer.format(n=n)] for n, body in enumerate(bodies, 1)]
    assert strip_page_furniture(pages) == bodies


def test_hard_wrapped_lines_rejoin_and_short_lines_end_paragraphs():
    paragraph = "　　到2025年，实现全市1000家小微工业企业升级为规模以上工业企业，规模以上工业企业规范化公司制改制比例达到60%。"
    wrapped = [paragraph[i : i + 15] for i in range(0, len(paragraph), 15)]
    assert wrapped[0].endswith("10") and wrapped[1].startswith("00家")
    blocks = join_paragraphs([[*wrapped, "第二节 发展目标", "——短行结束段落。"]])
    assert blocks == [Block(paragraph.strip(), 1), Block("第二节 发展目标", 1), Block("——短行结束段落。", 1)]


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [("全市10", "00家", "全市1000家"), ("营商", "环境", "营商环境"), ("the private", "economy", "the private economy"),
     ("5", "G网络", "5G网络"), ("Page ", "10", "Page 10")],
)
def test_join_wrapped(left, right, joined):
    assert join_wrapped(left, right) == joined


# ---------------------------------------------------------------- text

def test_gb18030_law_is_decoded_and_split_into_lines():
    source = TextReader().read(DATA / "law_gb18030.txt")
    assert source.encoding == "gb18030" and not source.paged
    lines = texts(source)
    assert lines[0] == "某市小微企业服务促进条例（测试）"
    assert "第一章\u3000总则" in lines  # leading full-width spaces stripped, inner one kept
    assert "（一）政策咨询和解读；" in lines  # leading tab stripped
    assert "第五条规定的补助资金使用情况进行核查，发现挪用的，予以追回。" in lines
    assert all(line and line == line.strip() and "\r" not in line for line in lines)
    assert len(lines) == 17
    assert all(block.page is None for block in source.blocks)


def test_big5_text_is_decoded():
    source = TextReader().read(DATA / "law_big5.txt")
    assert source.encoding == "big5"
    assert texts(source)[1] == "第一條\u3000為協助中小企業健全經營管理，特訂定本辦法。"


def test_utf8_with_and_without_bom():
    plain = TextReader().read(DATA / "plan_excerpt.txt")
    bom = TextReader().read(DATA / "plan_excerpt_bom.txt")
    assert (plain.encoding, bom.encoding) == ("utf-8", "utf-8-sig")
    assert texts(bom) == texts(plain)
    assert texts(bom)[0] == "第一节 营造良好发展环境，争创全国民营经济示范城市"
    assert not any("\ufeff" in line for line in texts(bom))


def test_empty_and_blank_files_are_unreadable(tmp_path):
    assert "文件是空的" in unreadable(TextReader(), DATA / "empty.txt")
    blank = tmp_path / "blank.txt"
    blank.write_text(" \r\n\u3000\u3000\t\n\n", encoding="utf-8")
    assert "文件是空的" in unreadable(TextReader(), blank)


def test_binary_data_renamed_txt_is_unreadable(tmp_path):
    assert "二进制" in unreadable(TextReader(), DATA / "binary.txt")
    controls = tmp_path / "controls.txt"
    controls.write_bytes(bytes(range(1, 32)) * 20 + "第一条".encode())
    assert "控制字符" in unreadable(TextReader(), controls)


# ---------------------------------------------------------------- DOCX

def test_docx_reads_headings_paragraphs_and_table_rows_in_body_order():
    source = DocxReader().read(DATA / "plan_excerpt.docx")
    lines = texts(source)
    assert lines[:2] == ["第三章 主要任务和行动措施", "第一节 营造良好发展环境，争创全国民营经济示范城市"]
    assert lines[2].startswith("7.完善融资机制") and lines[3].startswith("8.创新融资方式")
    item34 = next(i for i, t in enumerate(lines) if t.startswith("34."))
    assert lines[item34 + 1] == "专栏7： 各区（市）服务贸易特色发展指引"  # merged title row, read once
    assert lines[item34 + 2] == "市南区：旅游、金融保险、电信计算机和信息、文化娱乐、其他商业服务"
    assert "西海岸新区（含自贸片区）：运输、旅游、电信计算机和信息、文化娱乐、其他商业服务、维护维修" in lines
    assert lines[-2] == "莱西市：其他商业服务"
    assert lines[-1].startswith("35.建设国际营销体系")
    assert not source.paged


def test_damaged_docx_and_legacy_doc_are_unreadable(tmp_path):
    assert "损坏" in unreadable(DocxReader(), DATA / "corrupt.docx")
    legacy = tmp_path / "旧版.docx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert ".doc" in unreadable(DocxReader(), legacy)


# ---------------------------------------------------------------- HTML

@pytest.fixture(scope="module")
def page():
    return HtmlReader().read(DATA / "page.html")


def test_html_keeps_the_main_text_only(page):
    body = "\n".join(texts(page))
    for chrome in ("青岛政务网", "首页", "政务公开", "相关链接", "版权所有", "网站地图", "搜索本站",
                   "脚本文字", "样式文字", "编辑注释", "document.write", "font-family"):
        assert chrome not in body
    assert texts(page)[1:3] == ["第三章 主要任务和行动措施", "第一节 营造良好发展环境，争创全国民营经济示范城市"]
    assert page.encoding == "utf-8"


def test_html_items_are_whole_paragraphs(page):
    plan = texts(TextReader().read(PLAN_TXT))
    for number in ("1.推进审批提速增效", "2.进一步放开市场准入"):
        block = next(t for t in texts(page) if t.startswith(number))
        assert block == next(t for t in plan if t.startswith(number))  # no space where the source broke the line


def test_html_escaped_markup_stays_text_and_real_tags_leave_nothing(page):
    assert "注意：<img src=x onerror=alert(1)> 与" in texts(page)
    body = "\n".join(texts(page))
    assert body.count("<img") == 1 and body.count("alert(1)") == 1  # only the escaped one


def test_html_table_rows_read_like_docx_rows(page):
    assert "市南区：旅游、金融保险、电信计算机和信息、文化娱乐、其他商业服务" in texts(page)


def test_html_declared_gb2312_without_main():
    source = HtmlReader().read(DATA / "page_gb2312.html")
    assert source.encoding == "gb18030"
    lines = texts(source)
    assert lines[:2] == ["第四章 组织实施与保障措施", "第一节 建立健全党建引领机制"]
    assert lines[2].startswith("坚持党对支持民营经济和中小企业改革发展工作的领导")
    assert "首页" not in "\n".join(lines)


# ---------------------------------------------------------------- registry

@pytest.mark.parametrize(
    ("name", "reader"),
    [("law_gb18030.txt", TextReader), ("plan.pdf", PdfReader), ("plan_excerpt.docx", DocxReader),
     ("page.html", HtmlReader)],
)
def test_each_suffix_has_its_reader(name, reader):
    found = reader_for(DATA / name)
    assert isinstance(found, reader) and isinstance(found, Reader)
