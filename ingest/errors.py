"""Errors a user can act on: each names the file and says what to do."""
from __future__ import annotations

import unicodedata
from pathlib import Path


class UnreadableSource(Exception):
    """A source file that cannot be turned into text; ``str()`` is the user-facing message."""

    def __init__(self, path: Path | str, problem: str, remedy: str):
        self.path = Path(path)
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{printable(self.path.name)}：{problem}。{remedy}")


# Controls (newline, tab, ESC…) and the invisible marks that reverse how a name reads (U+202E…).
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with control and text-direction characters written as escapes (``\\n``, ``\\u202e``)."""
    return "".join(ch.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(ch) == "Cc" or ch in _BIDI else ch for ch in text)

