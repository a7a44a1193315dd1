"""Regenerate the reader fixtures in tests/data/ (deterministic: same bytes every run).

    python tests/data/make_fixtures.py

plan.pdf is the whole plan laid out like a government PDF (running header, ``— N —``
footer, hard-wrapped lines); plan.pdf.pages.json records, while laying it out, the
page on which each item, box and heading starts: the ground truth for the tests.
Needs reportlab, pypdf, python-docx and Pillow (the ``dev`` extra).
"""
from __future__ import annotations

import io
import json
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parent
PLAN_TXT = DATA.parents[1] / "source_docs" / "青岛市十四五民营经济和中小企业发展规划.txt"
PLAN_TITLE = "青岛市“十四五”民营经济和中小企业发展规划"
FONT = "STSong-Light"  # an Adobe CID font: not embedded, so the PDFs stay small

# Page geometry (points, A4): 36 CJK characters of 12 pt per line, 33 lines a page.
PAGE_W, PAGE_H = 595.27, 841.89
BODY_SIZE, LINE_CHARS, LEADING = 12, 36, 21
LEFT = (PAGE_W - LINE_CHARS * BODY_SIZE) / 2
BODY_TOP, BODY_BOTTOM = 760, 70
ROWS_PER_PAGE = (BODY_TOP - BODY_BOTTOM) // LEADING + 1
INDENT = "\u3000\u3000"  # two full-width spaces, as typed in Word

# Centred headings; 第三章's line in the source lacks its "第三章".
CHAPTER = re.compile(r"^(第[一二三四五六七八九十]+章|主要任务和行动措施$|前\s*言$)")
SECTION = re.compile(r"^第[一二三四五六七八九十]+节")
BOX = re.compile(r"^专栏(\d+)")
ITEM = re.compile(r"^(\d{1,2})\.(?!\d)")


# ---------------------------------------------------------------- plan.pdf

@dataclass
class PlanLayout:
    """Every drawn line as (page, style, text), plus where each unit starts."""

    lines: list[tuple[int, str, str]] = field(default_factory=list)
    items: dict[int, int] = field(default_factory=dict)
    boxes: dict[int, int] = field(default_factory=dict)
    headings: list[tuple[str, int]] = field(default_factory=list)
    split_numbers: list[str] = field(default_factory=list)
    page: int = 1
    row: int = 0

    def place(self, style: str, text: str) -> int:
        """Put one line on the current page (or a new one); return its page number."""
        if self.row == ROWS_PER_PAGE:
            self.page, self.row = self.page + 1, 0
        self.lines.append((self.page, style, text))
        self.row += 1
        return self.page


def wrap(paragraph: str, width: int = LINE_CHARS) -> list[str]:
    """Hard-wrap every ``width`` characters, as a typesetter would: never next to a
    space and never inside a Latin word (those move down); digits may split."""
    lines, start = [], 0
    while start < len(paragraph):
        end = min(start + width, len(paragraph))
        while end < len(paragraph) and end > start + width - 6 and _bad_break(paragraph, end):
            end -= 1
        lines.append(paragraph[start:end])
        start = end
    return lines


def _bad_break(text: str, at: int) -> bool:
    left, right = text[at - 1], text[at]
    latin = left.isascii() and left.isalpha() and right.isascii() and right.isalpha()
    return left == " " or right == " " or latin


def layout_plan(source_lines: list[str]) -> PlanLayout:
    layout = PlanLayout()
    next_item = 1
    for raw in source_lines:
        text = raw.strip()
        if not text:
            continue
        if CHAPTER.match(text) or BOX.match(text):
            page = layout.place("centre", text)
            layout.headings.append((text, page))
            if box := BOX.match(text):
                layout.boxes[int(box.group(1))] = page
            continue
        if raw.startswith(" " * 10):  # the notice's signature: right-aligned
            layout.place("right", text)
            continue
        # "——" goal bullets hang at the margin; every other paragraph is indented.
        para = text if text.startswith("——") else INDENT + text
        wrapped = wrap(para)
        page = layout.place("body", wrapped[0])
        for left, right in zip(wrapped, wrapped[1:]):
            layout.place("body", right)
            if left[-1].isdigit() and right[0].isdigit():
                layout.split_numbers.append(f"{left[-4:]}|{right[:4]}")
        if SECTION.match(text):
            layout.headings.append((text, page))
        if (item := ITEM.match(text)) and int(item.group(1)) == next_item:
            layout.items[next_item] = page
            next_item += 1
    return layout


def write_plan_pdf(layout: PlanLayout, path: Path) -> None:
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=(PAGE_W, PAGE_H), invariant=1)
    pdf.setTitle(PLAN_TITLE)
    pages = layout.lines[-1][0]
    for page in range(1, pages + 1):
        pdf.setFont(FONT, 9)
        pdf.drawCentredString(PAGE_W / 2, 800, PLAN_TITLE)
        pdf.setLineWidth(0.5)
        pdf.line(LEFT, 794, PAGE_W - LEFT, 794)
        y = BODY_TOP
        for _, style, text in (line for line in layout.lines if line[0] == page):
            if style == "centre":
                pdf.setFont(FONT, 14)
                pdf.drawCentredString(PAGE_W / 2, y, text)
            elif style == "right":
                pdf.setFont(FONT, BODY_SIZE)
                pdf.drawRightString(PAGE_W - LEFT, y, text)
            else:
                pdf.setFont(FONT, BODY_SIZE)
                pdf.drawString(LEFT, y, text)
            y -= LEADING
        pdf.setFont(FONT, 10.5)
        pdf.drawCentredString(PAGE_W / 2, 40, f"— {page} —")
        pdf.showPage()
    pdf.save()


def make_plan_pdf() -> PlanLayout:
    layout = layout_plan(PLAN_TXT.read_text(encoding="utf-8").splitlines())
    write_plan_pdf(layout, DATA / "plan.pdf")
    truth = {
        "pages": layout.lines[-1][0],
        "items": {str(n): p for n, p in layout.items.items()},
        "boxes": {str(n): p for n, p in layout.boxes.items()},
        "headings": [{"text": t, "page": p} for t, p in layout.headings],
        "split_numbers": layout.split_numbers,
    }
    (DATA / "plan.pdf.pages.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return layout


def make_small_pdfs() -> None:
    """encrypted.pdf (needs a password), restricted.pdf (owner password only: opens
    with the empty password), scanned.pdf (an image, no text layer), corrupt.pdf."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, ByteStringObject
    from reportlab.pdfgen import canvas

    class FixedIdWriter(PdfWriter):
        # pypdf draws the file id from secrets; a fixed one keeps RC4 output stable.
        def generate_file_identifiers(self) -> None:
            self._ID = ArrayObject([ByteStringObject(b"plan-kb-fixture!")] * 2)

    one_page = io.BytesIO()
    pdf = canvas.Canvas(one_page, pagesize=(PAGE_W, PAGE_H), invariant=1)
    pdf.setFont(FONT, BODY_SIZE)
    pdf.drawString(LEFT, BODY_TOP, INDENT + "7.完善融资机制。运用信贷风险补偿、增信、贴息等方式。")
    pdf.showPage()
    pdf.save()
    for name, user, owner in (("encrypted.pdf", "kb-test", "kb-owner"), ("restricted.pdf", "", "kb-owner")):
        writer = FixedIdWriter(clone_from=PdfReader(io.BytesIO(one_page.getvalue())))
        writer.encrypt(user_password=user, owner_password=owner, algorithm="RC4-128")
        with open(DATA / name, "wb") as out:
            writer.write(out)

    pdf = canvas.Canvas(str(DATA / "scanned.pdf"), pagesize=(PAGE_W, PAGE_H), invariant=1)
    pdf.drawImage(_scan_image(), LEFT, 300, width=LINE_CHARS * BODY_SIZE, height=440)
    pdf.rect(LEFT - 10, 290, LINE_CHARS * BODY_SIZE + 20, 460)
    pdf.showPage()
    pdf.save()

    plan = (DATA / "plan.pdf").read_bytes()
    (DATA / "corrupt.pdf").write_bytes(plan[: len(plan) // 3])


def _scan_image():
    """A grey page of 'text lines' as a raster, like a scanner would produce."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    image = Image.new("L", (432, 440), 255)
    draw = ImageDraw.Draw(image)
    rnd = random.Random(6)
    for row in range(20):
        y = 12 + row * 21
        x = 24 if row % 6 == 0 else 0
        while x < 420:
            draw.rectangle((x, y, x + 9, y + 10), fill=rnd.randrange(20, 90))
            x += 12
    return ImageReader(image)


# ---------------------------------------------------------------- text files

# A synthetic regulation written for these tests (not a real law). The 第六条 text is
# hard-wrapped so that its second line begins with "第五条规定的": a cross-reference,
# not a new article.
LAW_GB18030 = """\
某市小微企业服务促进条例（测试）
（2023年3月1日某市第十六届人民代表大会常务委员会第九次会议通过）

　　第一章　总则
第一条　为了优化对小微企业的服务，促进小微企业健康发展，根据有关法律、行政法规，结合本市实际，制定本条例。
第二条　本条例适用于本市行政区域内的小微企业服务促进工作。
第三条　市、区人民政府应当建立小微企业服务协调机制，统筹解决服务促进工作中的重大问题。
　　
　　第二章　服务保障
第四条　市小微企业主管部门应当建设综合服务平台，为小微企业提供下列服务：
\t（一）政策咨询和解读；
\t（二）融资对接和信用培育；
\t（三）创业辅导和人才培训。
第五条　区人民政府可以对首次入驻创业基地的小微企业给予场地租金补助。
第六条　区财政部门应当按年度对依照本条例
第五条规定的补助资金使用情况进行核查，发现挪用的，予以追回。

　　第三章　附则
第七条　未依照本条例第三条建立协调机制的，由上一级人民政府责令改正。
第八条　本条例自2023年6月1日起施行。
"""

LAW_BIG5 = """\
某市中小企業輔導辦法（測試）
第一條　為協助中小企業健全經營管理，特訂定本辦法。
第二條　本辦法所稱中小企業，指依法辦理公司登記或商業登記之事業。
第三條　主管機關得委託專業機構，提供財務、技術及行銷之輔導。
"""


def plan_lines(first: str, last: str) -> list[str]:
    """The stripped, non-empty plan lines from the one starting ``first`` to the one starting ``last``."""
    lines = [s for s in (raw.strip() for raw in PLAN_TXT.read_text(encoding="utf-8").splitlines()) if s]
    start = next(i for i, s in enumerate(lines) if s.startswith(first))
    end = next(i for i, s in enumerate(lines) if i >= start and s.startswith(last))
    return lines[start : end + 1]


def make_text_files() -> None:
    # Windows line endings, as GB18030 files usually come.
    (DATA / "law_gb18030.txt").write_bytes(LAW_GB18030.replace("\n", "\r\n").encode("gb18030"))
    (DATA / "law_big5.txt").write_bytes(LAW_BIG5.encode("big5"))
    excerpt = "\n".join(plan_lines("第一节 营造良好发展环境", "8.创新融资方式")) + "\n"
    (DATA / "plan_excerpt.txt").write_text(excerpt, encoding="utf-8")
    (DATA / "plan_excerpt_bom.txt").write_text(excerpt, encoding="utf-8-sig")
    (DATA / "empty.txt").write_bytes(b"")
    rnd = random.Random(20210630)
    garbage = bytearray(rnd.randbytes(2048))
    garbage[::97] = b"\x00" * len(garbage[::97])
    (DATA / "binary.txt").write_bytes(bytes(garbage))


# ---------------------------------------------------------------- plan_excerpt.docx

def make_docx() -> None:
    """Ch. 3 §1 heading, items 7–8, §4's item 34, 专栏7 as a 2-column table (its title
    a merged row), then item 35."""
    from docx import Document

    doc = Document()
    doc.core_properties.title = PLAN_TITLE
    doc.add_heading("第三章 主要任务和行动措施", level=1)
    doc.add_heading(plan_lines("第一节 营造良好发展环境", "第一节 营造良好发展环境")[0], level=2)
    for text in plan_lines("7.完善融资机制", "8.创新融资方式"):
        doc.add_paragraph(text)
    doc.add_heading(plan_lines("第四节 积极融入", "第四节 积极融入")[0], level=2)
    doc.add_paragraph(plan_lines("34.实现服务贸易", "34.实现服务贸易")[0])
    box = plan_lines("专栏7", "35.建设国际营销体系")[:-1]
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    title = table.rows[0].cells[0].merge(table.rows[0].cells[1])  # the box title spans the table
    title.text = box[0]
    for district, fields in _district_rows(box[1:]):
        cells = table.add_row().cells
        cells[0].text = district[0]
        for extra in district[1:]:  # "（含自贸片区）" is a second paragraph of the cell
            cells[0].add_paragraph(extra)
        cells[1].text = fields
    doc.add_paragraph(plan_lines("35.建设国际营销体系", "35.建设国际营销体系")[0])
    buffer = io.BytesIO()
    doc.save(buffer)
    (DATA / "plan_excerpt.docx").write_bytes(_stable_zip(buffer.getvalue()))
    (DATA / "corrupt.docx").write_bytes((DATA / "plan_excerpt.docx").read_bytes()[:4000])


def _district_rows(lines: list[str]) -> list[tuple[list[str], str]]:
    """Pair 专栏7's district lines (some with a "（含…）" note) with their fields."""
    rows: list[tuple[list[str], str]] = []
    district: list[str] = []
    for line in lines:
        if line.endswith(("区", "市")) or line.startswith("（含"):
            district.append(line)
        else:
            rows.append((district, line))
            district = []
    return rows


def _stable_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so the .docx bytes do not change per run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2021, 6, 30, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------- HTML pages

PAGE_HTML = """\
<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title} - 青岛政务网</title>
<style>body {{ font-family: serif; }} .nav::after {{ content: "样式文字"; }}</style>
<script>alert(1)</script>
</head>
<body>
<header><div class="logo">青岛政务网</div><div>无障碍 | 长者模式</div></header>
<nav><a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 规划计划</nav>
<aside>相关链接：中国政府网</aside>
<main>
  <h1>{title}</h1>
  <h2>{chapter}</h2>
  <h3>{section}</h3>
  <!-- 编辑注释：不应出现在正文里 -->
  <p>{item1}</p>
  <p>{item2a}
{item2b}</p>
  <script>document.write("脚本文字")</script>
  <p>注意：&lt;img src=x onerror=alert(1)&gt; 与 <img src=x onerror=alert(1)></p>
  <table>
    <tr><td>市南区</td><td>旅游、金融保险、电信计算机和信息、文化娱乐、其他商业服务</td></tr>
    <tr><td>李沧区</td><td>电信计算机和信息、其他商业服务</td></tr>
  </table>
  <form><input name="q"><button>搜索本站</button></form>
</main>
<footer>版权所有：青岛市民营经济发展局　<a href="/sitemap">网站地图</a></footer>
<script src="/stat.js"></script>
</body>
</html>
"""

PAGE_GB2312_HTML = """\
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>组织实施与保障措施</title></head>
<body>
<div id="nav"><nav>首页 &gt; 政策文件</nav></div>
<div class="article">{chapter}
<h2>{section}</h2>
<div>{para}</div>
</div>
</body></html>
"""


def make_html() -> None:
    item2 = plan_lines("2.进一步放开市场准入", "2.进一步放开市场准入")[0]
    cut = item2.index("。") + 1  # the page source breaks item 2 between two CJK lines
    page = PAGE_HTML.format(
        title=PLAN_TITLE,
        chapter="第三章 主要任务和行动措施",
        section=plan_lines("第一节 营造良好发展环境", "第一节 营造良好发展环境")[0],
        item1=plan_lines("1.推进审批提速增效", "1.推进审批提速增效")[0],
        item2a=item2[:cut], item2b=item2[cut:],
    )
    (DATA / "page.html").write_text(page, encoding="utf-8")
    gb_page = PAGE_GB2312_HTML.format(
        chapter="第四章 组织实施与保障措施",
        section="第一节 建立健全党建引领机制",
        para=plan_lines("坚持党对支持民营经济", "坚持党对支持民营经济")[0],
    )
    (DATA / "page_gb2312.html").write_bytes(gb_page.encode("gb2312"))


def main() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    layout = make_plan_pdf()
    make_small_pdfs()
    make_text_files()
    make_docx()
    make_html()
    print(f"plan.pdf: {layout.lines[-1][0]} pages; numbers split across lines: {layout.split_numbers}")
    for path in sorted(DATA.iterdir()):
        if path.suffix != ".py" and path.is_file():
            print(f"{path.name:24} {path.stat().st_size:>7} bytes")


if __name__ == "__main__":
    main()
