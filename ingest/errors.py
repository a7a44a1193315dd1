"""Errors a user can act on: each names the file and says what to do."""
from __future__ import annotations

from pathlib import Path


class UnreadableSource(Exception):
    """A source file that cannot be turned into text; ``str()`` is the user-facing message."""

    def __init__(self, path: Path | str, problem: str, remedy: str):
        self.path = Path(path)
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{self.path.name}：{problem}。{remedy}")
