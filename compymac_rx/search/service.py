"""Search the signed-in user's sessions: one result per session, best first."""

from __future__ import annotations

from compymac_rx.db import get_engine, session_scope
from compymac_rx.search import query
from compymac_rx.search.index import index_for
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
        # Several messages of one session may match: fetch more, keep the best per session.
        raw = index.find(
            db, user_id=user_id, words=words, archived=include_archived, limit=limit * 4
        )
    return _one_per_session(raw, words, limit)


def _one_per_session(raw: list[RawHit], words: list[str], limit: int) -> list[SearchHit]:
    titles = [hit for hit in raw if hit.message_id is None]
    messages = sorted((hit for hit in raw if hit.message_id is not None), key=lambda h: -h.rank)
    best_message: dict[str, RawHit] = {}
    for hit in messages:
        best_message.setdefault(hit.session_id, hit)
    # Title matches first; the snippet is still the session's best message when one matched.
    order = list(dict.fromkeys([hit.session_id for hit in titles] + list(best_message)))
    by_title = {hit.session_id: hit for hit in titles}
    found: list[SearchHit] = []
    for session_id in order[:limit]:
        hit = best_message.get(session_id) or by_title[session_id]
        found.append(
            SearchHit(
                session_id=hit.session_id,
                title=hit.title,
                archived=hit.archived,
                message_id=hit.message_id,
                seq=hit.seq,
                snippet=query.snippet(hit.text, words),
                at=hit.at,
            )
        )
    return found
