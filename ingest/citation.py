"""Clause ids and the human citation label officials copy.

    《青岛市“十四五”民营经济和中小企业发展规划》第三章第一节 第7条「完善融资机制」
    《中华人民共和国中小企业促进法》第二章 第十条
"""
from __future__ import annotations

from ingest.numerals import int_to_cn_numeral


def division_path(chapter: int | None, section: int | None) -> str:
    """第三章第一节 / 第四章 / '' — the plan's chapter-and-section prefix."""
    out = ""
    if chapter is not None:
        out += f"第{int_to_cn_numeral(chapter)}章"
        if section is not None:
            out += f"第{int_to_cn_numeral(section)}节"
    return out


def clause_label(doc_title: str, kind: str, *, chapter: int | None, section: int | None,
                 item: int | None, box: int | None, article: int | None, title: str) -> str:
    head = f"《{doc_title}》{division_path(chapter, section)}"
    if kind == "article":
        sep = " " if chapter is not None else ""
        return f"{head}{sep}第{int_to_cn_numeral(article)}条"
    if kind == "item":
        return f"{head} 第{item}条「{title}」"
    if kind == "box":
        return f"{head} 专栏{box}「{title}」"
    if kind == "preface":
        return f"{head}{title}"
    if kind == "paragraph" or not title:
        return head
    return f"{head}「{title}」"


def clause_id(doc_key: str, kind: str, *, chapter: int | None, section: int | None,
              item: int | None, box: int | None, article: int | None, seq: int) -> str:
    """A stable id from the structural path: ``plan/ch3/s1/item7``, ``中小企业促进法/art10``."""
    if kind == "article":
        return f"{doc_key}/art{article}"
    parts = [doc_key]
    if chapter is not None:
        parts.append(f"ch{chapter}")
    if section is not None:
        parts.append(f"s{section}")
    if kind == "item":
        parts.append(f"item{item}")
    elif kind == "box":
        parts.append(f"box{box}")
    elif kind in ("lead", "preface"):
        parts.append(kind)
    else:  # topics and paragraphs are numbered within their section
        parts.append(f"{kind}{seq}")
    return "/".join(parts)
