"""jieba tokens for BM25, with a domain dictionary mined from the corpus and Chinese stop words.

Policy text coins terms that jieba's general dictionary splits apart (“信易贷”, “拿地即开工”,
“个转企”); the plan itself puts most of them in quotation marks, so they are mined from
“…” spans, plus a short seed list of terms the documents use without quotes.
"""
from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import jieba

from kb.lexicon import read_files
from kb.text import fold_width

_WORDS = read_files()["words"]   # kb/lexicon/words.toml: the built-in vocabulary shapes the index
SEED_TERMS = tuple(_WORDS["domain"]["words"])
STOP_WORDS = frozenset(_WORDS["stop"]["words"])

jieba.setLogLevel(logging.WARNING)

_QUOTED = re.compile(r"[“\"]([^”\"]{2,40})[”\"]")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")


def mine_domain_terms(texts: Iterable[str]) -> list[str]:
    """Quoted coinages, split on 、 (“个转企、小升规” → 个转企, 小升规), plus the seed terms."""
    terms = set(SEED_TERMS)
    for text in texts:
        for span in _QUOTED.findall(text):
            for part in re.split(r"[、，,]", span):
                part = re.split(r"[（(]", part)[0].strip()
                if 2 <= len(part) <= 8 and not re.search(r"[。；：\s]", part):
                    terms.add(part)
    return sorted(terms)


COMMON_WORD_FREQ = 500   # jieba dictionary words at least this frequent are kept whatever the corpus
DOMAIN_WORD_FREQ = 20000  # mined terms win over the words they would otherwise be split into


def corpus_dictionary(texts: Iterable[str], domain_terms: Iterable[str]) -> list[str]:
    """jieba's dictionary cut down to the words the corpus contains plus the common ones, and our terms.

    Loading jieba's full dictionary (350k words) costs over a second at every start; this one
    (~15k words) loads in a few hundredths and segments the corpus the same way, since a word
    that never occurs in it can never be cut out of it. Queries fall back to jieba's HMM for
    rare words, which BM25 could not match anyway.
    """
    path = jieba.get_dict_file().name
    with open(path, encoding="utf-8") as f:
        found = words_in(texts, _prefix_table(line.split(" ", 1)[0] for line in f))
    lines = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, freq = line.split(" ", 2)[:2]
            if int(freq) >= COMMON_WORD_FREQ or word in found:
                lines.append(line.rstrip("\n"))
    lines += [f"{term} {DOMAIN_WORD_FREQ} nz" for term in sorted(set(domain_terms))]
    lines += [f"{word} {DOMAIN_WORD_FREQ} x" for word in sorted(STOP_WORDS) if re.search(r"[\u4e00-\u9fff]", word)]
    return lines


def _prefix_table(words: Iterable[str]) -> dict[str, bool]:
    """Every word and every prefix of a word → whether it is a word itself (jieba's own DAG idea)."""
    table: dict[str, bool] = {}
    for word in words:
        table[word] = True
        for end in range(1, len(word)):
            table.setdefault(word[:end], False)
    return table


def words_in(texts: Iterable[str], table: dict[str, bool]) -> set[str]:
    """The dictionary words that occur anywhere in ``texts``: exact, in one pass, memory bounded by
    the dictionary. From each position the text is extended only while it is still a prefix of some
    word, a few steps on average (a set of every substring of a 100× corpus took gigabytes)."""
    found: set[str] = set()
    for text in texts:
        end_of_text = len(text)
        for start in range(end_of_text):
            end = start + 1
            fragment = text[start:end]
            while fragment in table:
                if table[fragment]:
                    found.add(fragment)
                if end == end_of_text:
                    break
                end += 1
                fragment = text[start:end]
    return found


class Tokenizer:
    """A private jieba instance (the global one is shared by every importer) on our own dictionary."""

    def __init__(self, dictionary: list[str] | None = None):
        self.dictionary = dictionary
        if dictionary is None:  # jieba's full dictionary plus the seed terms
            self._jieba = jieba.Tokenizer()
            self._jieba.initialize()
            for term in SEED_TERMS:
                self._jieba.add_word(term, freq=DOMAIN_WORD_FREQ)
            return
        # jieba reads a dictionary from a file once, in initialize(); the file and the cache it
        # writes beside it are not needed afterwards.
        folder = Path(tempfile.mkdtemp(prefix="plankb-jieba-"))
        try:
            path = folder / "dictionary.txt"
            path.write_text("\n".join(dictionary) + "\n", encoding="utf-8")
            self._jieba = jieba.Tokenizer(dictionary=str(path))
            self._jieba.tmp_dir = str(folder)
            self._jieba.initialize()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @classmethod
    def for_corpus(cls, texts: list[str]) -> Tokenizer:
        return cls(corpus_dictionary(texts, mine_domain_terms(texts)))

    def tokenize(self, text: str) -> list[str]:
        """Search-mode tokens (long words also yield their parts), lower-cased, no stop words."""
        out = []
        for tok in self._jieba.lcut_for_search(fold_width(text).lower()):
            tok = tok.strip()
            if tok and tok not in STOP_WORDS and not _PUNCT_ONLY.match(tok):
                out.append(tok)
        return out

    def words(self, text: str) -> list[str]:
        """Every word in reading order (jieba's accurate mode without its guesses at unknown words,
        lower-cased; stop words and punctuation kept, spaces dropped): what a question is made of,
        for judging what it asks. Unknown words come out as single characters (see kb.query)."""
        return [w for w in (t.strip() for t in self._jieba.lcut(fold_width(text).lower(), HMM=False)) if w]

    def is_common(self, word: str) -> bool:
        """A common word of general Chinese (frequency ≥ COMMON_WORD_FREQ in jieba's dictionary): one
        that no clause holds is everyday wording (说法, 借助), not a specific thing the documents
        lack (起征点, 5 in jieba's counts)."""
        return self._jieba.FREQ.get(fold_width(word).lower(), 0) >= COMMON_WORD_FREQ

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.dictionary or []) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Tokenizer:
        return cls([line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()])


_default: Tokenizer | None = None


def tokenize(text: str) -> list[str]:
    """Tokens with the seed dictionary only (for callers without a knowledge base at hand)."""
    global _default
    if _default is None:
        _default = Tokenizer()
    return _default.tokenize(text)
