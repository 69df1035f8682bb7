"""From what a person typed to index terms, and from a matching text to a snippet.

Pure functions: both index implementations share them, so the two databases agree on what a
word is (letters and digits; `_` and punctuation separate words) and on the highlights.
"""

from __future__ import annotations

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


def _pattern(words: list[str]) -> re.Pattern[str]:
    # A word that starts where the term starts (a prefix match, like the indexes).
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE)


def snippet(text: str, words: list[str]) -> Snippet:
    """About SNIPPET_CHARS of `text` around its first match, with every match's range."""
    text = " ".join(text.split())  # one line: newlines and runs of spaces read badly in a list
    if not words:
        return Snippet(text[:SNIPPET_CHARS])
    pattern = _pattern(words)
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
