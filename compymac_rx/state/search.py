"""The sidebar's search box: the signed-in user's sessions by title and message text."""

from __future__ import annotations

import reflex as rx

from compymac_rx.accounts.models import CurrentUser
from compymac_rx.offload import off_loop
from compymac_rx.search import service as search
from compymac_rx.state.auth import AuthState
from compymac_rx.state.guard import signed_in
from compymac_rx.state.payloads import ShortText
from compymac_rx.state.views import SearchResultView, search_result_view

SEARCH_BOX_ID = "search-box"


class SearchState(AuthState):
    query: str = ""
    include_archived: bool = False
    results: rx.Field[list[SearchResultView]] = rx.field(default_factory=list)
    # True once a search ran for the current query (so "no results" is not shown while typing).
    searched: bool = False

    async def _run(self, user_id: str) -> None:
        hits = await off_loop(
            search.search, user_id, self.query, include_archived=self.include_archived
        )
        self.results = [search_result_view(hit) for hit in hits]
        self.searched = bool(self.query.strip())

    @rx.event
    @signed_in
    async def set_query(self, user: CurrentUser, value: ShortText) -> None:
        self.query = value
        await self._run(user.id)

    @rx.event
    @signed_in
    async def set_include_archived(self, user: CurrentUser, value: bool) -> None:
        self.include_archived = value
        await self._run(user.id)

    @rx.event
    def clear(self) -> None:
        self.query, self.results, self.searched = "", [], False
