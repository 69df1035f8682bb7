"""From what a person typed to index terms, and from a matching text to a snippet.

Pure functions: both index implementations share them, so the two databases agree on what a
word is (letters and digits; `_` and punctuation separate words) and on the highlights.
"""

from __future__ import annotations

import functools
import re

from compymac_rx.search.models import Snippet

MAX_TERMS = 8
MAX_TERM_CHARS = 64
SNIPPET_BEFORE = 60
SNIPPET_CHARS = 200
_WORD = re.compile(r"[^\W_]+")


def terms(text: str) -> list[str]:
    """The distinct words of a query, lower case, at most MAX_TERMS. Every term is matched as
    a prefix, so results appear while a word is still being typed."""
    found: list[str] = []
    for word in _WORD.findall(text.lower()):
        word = word[:MAX_TERM_CHARS]
        if word not in found:
            found.append(word)
    return found[:MAX_TERMS]


def fts5_match(column: str, user_id: str, words: list[str]) -> str:
    """An FTS5 MATCH expression: the owner's rows, every word as a prefix.

    Words are letters and digits only (see `terms`) and the user id is hex, so quoting them is
    enough: nothing a person types becomes FTS5 syntax.
    """
    phrases = " AND ".join(f'"{word}"*' for word in words)
    return f'user_id:"{user_id}" AND {column}:({phrases})'


def tsquery(words: list[str]) -> str:
    """A PostgreSQL to_tsquery text: every word as a prefix (`word:*`), all required."""
    return " & ".join(f"{word}:*" for word in words)


# BM25's usual constants: how fast repeats stop counting, how much length weighs.
_K1 = 1.2
_B = 0.75


def text_length(text: str) -> int:
    """About how many words a text has: whitespace-separated pieces (C-fast, unlike a regex
    split; only ranking's length normalisation uses it)."""
    return len(text.split())


def rank(text: str, words: list[str], average_length: float) -> float:
    """How well a text matches: BM25's term-frequency part over prefix matches; larger is
    better. The inverse document frequency is left out: for one word it is the same for every
    candidate, and computing it means counting every match of every word in the whole index
    (FTS5's bm25() spent 30-100 ms of a query on it at 500,000 messages). Both databases rank
    with this function, so they order the same candidates alike."""
    matched = [found.lower() for found in _pattern(tuple(words)).findall(text)]
    if not matched:
        return 0.0
    norm = _K1 * (1 - _B + _B * text_length(text) / max(average_length, 1.0))
    score = 0.0
    for word in words:
        frequency = sum(1 for found in matched if found.startswith(word))
        score += frequency * (_K1 + 1) / (frequency + norm)
    return score


@functools.lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # A word that starts where the term starts (a prefix match, like the indexes).
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def snippet(text: str, words: list[str]) -> Snippet:
    """About SNIPPET_CHARS of `text` around its first match, with every match's range."""
    text = " ".join(text.split())  # one line: newlines and runs of spaces read badly in a list
    if not words:
        return Snippet(text[:SNIPPET_CHARS])
    pattern = _pattern(tuple(words))
    first = pattern.search(text)
    start = 0 if first is None else max(0, first.start() - SNIPPET_BEFORE)
    if start:
        # Start on a word boundary, not mid-word.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < (first.start() if first else start) else start
    end = min(len(text), start + SNIPPET_CHARS)
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    body = text[start:end]
    offset = len(prefix)
    ranges = tuple(
        (m.start() + offset, min(m.end(), len(body)) + offset) for m in pattern.finditer(body)
    )
    return Snippet(prefix + body + suffix, ranges)
