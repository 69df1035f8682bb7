"""Search the signed-in user's sessions: one result per session, best first."""

from __future__ import annotations

from compymac_rx.db import get_engine, session_scope
from compymac_rx.search import query
from compymac_rx.search.index import index_for, when
from compymac_rx.search.models import RawHit, SearchHit

MAX_RESULTS = 50


def search(
    user_id: str, text: str, *, include_archived: bool = False, limit: int = 20
) -> list[SearchHit]:
    """Sessions of `user_id` whose title or messages contain every word of `text`.

    A session matched by its title comes first (its title is the snippet); otherwise its best
    matching message is the snippet and `seq` says where to open it. Archived sessions only
    when asked.
    """
    words = query.terms(text)
    if not words:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    index = index_for(get_engine().dialect.name)
    with session_scope() as db:
        raw = index.find(db, user_id=user_id, words=words, archived=include_archived)
    return _one_per_session(raw, words, limit)


def _ranked(hits: list[RawHit], words: list[str]) -> list[RawHit]:
    """Best first; among equals, the index's order (newest first) stays."""
    average = sum(query.text_length(hit.text) for hit in hits) / len(hits) if hits else 1.0
    scores = [query.rank(hit.text, words, average) for hit in hits]
    order = sorted(range(len(hits)), key=lambda n: -scores[n])
    return [hits[n] for n in order]


def _one_per_session(raw: list[RawHit], words: list[str], limit: int) -> list[SearchHit]:
    titles = _ranked([hit for hit in raw if hit.message_id is None], words)
    messages = _ranked([hit for hit in raw if hit.message_id is not None], words)
    best_message: dict[str, RawHit] = {}
    for hit in messages:
        best_message.setdefault(hit.session_id, hit)
    # Title matches first; the snippet is still the session's best message when one matched.
    order = list(dict.fromkeys([hit.session_id for hit in titles] + list(best_message)))
    by_title = {hit.session_id: hit for hit in titles}
    found: list[SearchHit] = []
    for session_id in order[:limit]:
        hit = best_message.get(session_id) or by_title[session_id]
        where = (hit.session_id, hit.title, hit.archived, hit.message_id, hit.seq)
        found.append(SearchHit(*where, query.snippet(hit.text, words), when(hit.at)))
    return found
