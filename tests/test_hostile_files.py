"""Hostile files in the source folder: each is skipped with a message naming it, the rest is ingested.

Fixtures are generated in tmp_path at test time (nothing large is committed): links out of the
folder, names with control characters, a file over the size limit, a zip-bomb DOCX, a PDF of
3,000 blank pages, a text file with stray control characters, binary data named .txt.
"""
from __future__ import annotations

import random
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest
from conftest import DATA

from ingest.errors import UnreadableSource
from ingest.limits import MB, SourceLimits
from ingest.numerals import int_to_cn_numeral
from ingest.readers.docx import DocxReader
from ingest.readers.html import HtmlReader
from ingest.readers.pdf import PdfReader
from ingest.readers.text import TextReader
from ingest.sources import climbs_out, discover_sources
from kb import KnowledgeBase, Settings

pytestmark = pytest.mark.integration

LAW = DATA / "law_gb18030.txt"
LAW_TITLE = "某市小微企业服务促进条例（测试）"


def _refusal(reader, path: Path) -> str:
    with pytest.raises(UnreadableSource) as caught:
        reader.read(path)
    message = str(caught.value)
    assert message.startswith(path.name + "：")
    return message


def _blank_pdf(path: Path, pages: int) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with path.open("wb") as f:
        writer.write(f)
    return path


def _text_pdf(path: Path, pages: int) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path))
    for n in range(1, pages + 1):
        c.setFont("STSong-Light", 12)
        c.drawString(72, 700, f"第{int_to_cn_numeral(n)}条　本页是测试正文。")   # differs per page: not a header
        c.showPage()
    c.save()
    return path


def _bomb_docx(path: Path, unpacked_mb: int) -> Path:
    """A DOCX whose word/document.xml inflates to ``unpacked_mb`` MB of one repeated paragraph."""
    good = zipfile.ZipFile(DATA / "plan_excerpt.docx")
    paragraph = b"<w:p><w:r><w:t>" + "填充".encode() * 8 + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in good.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, good.read(item))
        with out.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                      b'wordprocessingml/2006/main"><w:body>')
            block = paragraph * (MB // len(paragraph))
            for _ in range(unpacked_mb):
                xml.write(block)
            xml.write(b"</w:body></w:document>")
    return path


# -- one ingest with every hostile file beside a good one ---------------------------------------
@pytest.fixture(scope="module")
def hostile_ingest(tmp_path_factory, embed_cache):
    root = tmp_path_factory.mktemp("hostile")
    src, outside = root / "src", root / "outside"
    src.mkdir()
    outside.mkdir()
    (src / "law.txt").write_bytes(LAW.read_bytes())
    # Stray controls in a real text: NUL, a terminal colour code, a form feed, a bell.
    plan = (DATA / "plan_excerpt.txt").read_text(encoding="utf-8")
    dirty = plan.replace("审批提速增效", "审批\x00提速\x1b[31m增效\x1b[0m", 1).replace("\n", "\n\x0c", 3) + "\x07"
    (src / "plan_with_controls.txt").write_text(dirty, encoding="utf-8")
    (outside / "secret.txt").write_text("第一条　这是来源文件夹之外的文件，不应导入。", encoding="utf-8")
    (src / "leak.txt").symlink_to(outside / "secret.txt")
    (src / "linked").symlink_to(outside, target_is_directory=True)
    (src / "bad\nname.txt").write_text("第一条　文件名里有换行。", encoding="utf-8")
    (src / "evil\u202etxt.md").write_text("第一条　文件名里有方向控制符。", encoding="utf-8")
    with (src / "huge.txt").open("wb") as f:      # sparse: 3 MB on paper, nothing on disk
        f.truncate(3 * MB)
    _bomb_docx(src / "bomb.docx", unpacked_mb=8)   # over this KB's 2 MB limit once unpacked
    _blank_pdf(src / "blank.pdf", pages=3000)
    (src / "binary.txt").write_bytes(random.Random(1).randbytes(20_000))
    sources = [src, Path(f"{src}/../../etc")]
    kb = KnowledgeBase(Settings(dir=root / "kb", sources=sources, embed_cache=embed_cache,
                                max_file_mb=2, max_pdf_pages=100))
    started = time.perf_counter()
    report = kb.ingest(progress=False)
    return kb, report, time.perf_counter() - started


def _error_about(report, name: str) -> str:
    found = [e for e in report.errors if e.startswith(name + "：")]
    assert len(found) == 1, f"expected one message about {name!r} in {report.errors}"
    return found[0]


def test_the_good_documents_are_ingested_and_answerable(hostile_ingest):
    kb, report, _ = hostile_ingest
    assert sorted(report.added) == ["law.txt", "plan_with_controls.txt"], report
    assert {d.source for d in kb.documents()} == {"law.txt", "plan_with_controls.txt"}
    answer = kb.answer("某市小微企业服务促进条例适用于哪些地方？")
    assert not answer.refused and answer.citations[0].clause.doc_title == LAW_TITLE


def test_every_hostile_file_gets_a_chinese_message_naming_it(hostile_ingest):
    _, report, _ = hostile_ingest
    expected = {"leak.txt": "来源文件夹之外", "linked": "文件夹的链接", "bad\\nname.txt": "控制字符",
                "evil\\u202etxt.md": "控制字符", "huge.txt": "文件过大", "bomb.docx": "压缩炸弹",
                "blank.pdf": "没有文字层", "binary.txt": "二进制"}
    for name, says in expected.items():
        message = _error_about(report, name)
        assert says in message and "请" in message, message   # what happened, then what to do
    climbing = [e for e in report.errors if "“..”" in e]
    assert len(climbing) == 1 and "完整路径" in climbing[0]
    assert len(report.errors) == len(expected) + 1, report.errors
    assert not any("\n" in e or "\u202e" in e for e in report.errors)   # names are shown escaped


def test_nothing_outside_the_source_folder_is_read(hostile_ingest):
    kb, _, _ = hostile_ingest
    assert not any("不应导入" in c.text or "文件名里" in c.text for c in kb.clauses())


def test_hostile_files_do_not_stall_the_ingest(hostile_ingest):
    _, _, seconds = hostile_ingest
    assert seconds < 60, f"ingest beside the hostile files took {seconds:.0f} s"


def test_stray_control_characters_are_dropped_and_the_text_kept(hostile_ingest):
    kb, report, _ = hostile_ingest
    texts = [c.text for c in kb.clauses() if c.doc_title != LAW_TITLE]
    assert any("审批提速增效" in t for t in texts) and any("0.5个工作日" in t for t in texts)
    assert not any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for t in texts for ch in t)
    assert not any("[31m" in t for t in texts)
    assert any(w.startswith("plan_with_controls.txt：") and "控制字符" in w for w in report.warnings)


# -- each guard on its own ---------------------------------------------------------------------
def test_source_paths_that_climb_out_of_a_named_folder_are_refused():
    assert climbs_out(Path("docs/../../etc")) and climbs_out(Path("/srv/docs/../../etc"))
    assert climbs_out(Path("../shared/source_docs/related")) is None    # ordinary relative path
    assert climbs_out(Path("/work/source_docs")) is None


def test_a_link_inside_the_folder_to_a_file_inside_it_is_read_once(tmp_path):
    (tmp_path / "law.txt").write_bytes(LAW.read_bytes())
    (tmp_path / "alias.txt").symlink_to(tmp_path / "law.txt")
    found = discover_sources([tmp_path], (".txt",))
    assert len(found.files) == 1 and not found.missing and not found.refused


def test_a_pdf_of_3000_blank_pages_is_given_up_on_quickly(tmp_path):
    pdf = _blank_pdf(tmp_path / "空白.pdf", pages=3000)
    started = time.perf_counter()
    message = _refusal(PdfReader(), pdf)
    assert time.perf_counter() - started < 10
    assert "共 3000 页" in message and "没有文字层" in message and "OCR" in message


def test_a_pdf_over_the_page_limit_is_refused(tmp_path):
    pdf = _text_pdf(tmp_path / "长文件.pdf", pages=30)
    message = _refusal(PdfReader(SourceLimits(max_pdf_pages=25)), pdf)
    assert "共 30 页" in message and "25 页" in message and "KB_MAX_PDF_PAGES" in message
    assert len(PdfReader(SourceLimits(max_pdf_pages=30)).read(pdf).blocks) == 30


def test_a_docx_that_inflates_to_hundreds_of_mb_is_refused_before_it_is_parsed(tmp_path):
    bomb = _bomb_docx(tmp_path / "炸弹.docx", unpacked_mb=300)
    assert bomb.stat().st_size < 5 * MB
    started = time.perf_counter()
    message = _refusal(DocxReader(), bomb)
    assert time.perf_counter() - started < 5
    assert "压缩炸弹" in message and "KB_MAX_FILE_MB" in message


def test_a_docx_packed_like_a_bomb_is_refused_even_under_the_size_limit(tmp_path):
    bomb = _bomb_docx(tmp_path / "高压缩比.docx", unpacked_mb=20)    # 20 MB < 50 MB, but ~1000× packed
    assert "压缩比" in _refusal(DocxReader(), bomb)
    assert DocxReader().read(DATA / "plan_excerpt.docx").blocks    # a real document still reads


def test_a_text_file_with_a_few_nul_bytes_is_read_and_binary_data_is_not(tmp_path):
    text = tmp_path / "law.txt"
    text.write_bytes(LAW.read_bytes().decode("gb18030").replace("第二条", "第二条\x00", 1).encode("utf-8"))
    source = TextReader().read(text)
    assert any(b.text.startswith("第二条") for b in source.blocks) and "\x00" not in "".join(b.text for b in source.blocks)
    binary = tmp_path / "data.txt"
    binary.write_bytes(random.Random(2).randbytes(5000))
    assert "二进制" in _refusal(TextReader(), binary)


def test_a_web_page_with_stray_control_characters_reads_clean(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><body><p>第一条\x00　为了\x1b[1m优化\x1b[0m营商环境，制定本条例。</p></body></html>",
                    encoding="utf-8")
    assert [b.text for b in HtmlReader().read(page).blocks] == ["第一条　为了优化营商环境，制定本条例。"]
