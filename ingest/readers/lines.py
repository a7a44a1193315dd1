"""Line-level text rules shared by the readers: where CJK text may take a space."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from ingest.errors import UnreadableSource


def is_wide(char: str) -> bool:
    """CJK ideographs, kana and full-width punctuation: text that never takes spaces."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def is_latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def join_wrapped(left: str, right: str) -> str:
    """Re-join a line that was hard-wrapped: ``10`` + ``00家`` is ``1000家``.

    Only two Latin words get a space between them; a break that fell on a space
    between narrow characters (``Page`` + ``10``) keeps it.
    """
    head, tail = left.rstrip(), right.lstrip()
    if not head or not tail:
        return head + tail
    if is_latin(head[-1]) and is_latin(tail[0]):
        return f"{head} {tail}"
    broke_on_space = head != left or tail != right
    if broke_on_space and not is_wide(head[-1]) and not is_wide(tail[0]):
        return f"{head} {tail}"
    return head + tail


def read_source_bytes(path: Path) -> bytes:
    """The file's bytes, or an ``UnreadableSource`` saying why they cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableSource(
            path, f"无法读取文件（{exc.strerror or exc}）", "请确认文件存在、没有被其他程序占用，并且有读取权限"
        ) from exc


def empty_file(path: Path) -> UnreadableSource:
    return UnreadableSource(path, "文件是空的，没有任何文字", "请确认文件已完整保存或下载，再重新导入")
