"""The pure parts of search: terms, match expressions, snippets, and their view."""

from __future__ import annotations

from datetime import UTC, datetime

from compymac_rx import routes
from compymac_rx.search import query
from compymac_rx.search.models import SearchHit, Snippet
from compymac_rx.state.views import SnippetPart, search_result_view, snippet_parts


def test_terms_are_words_only() -> None:
    assert query.terms('Foo "bar" OR foo* NEAR(x) user_id:abc') == [
        "foo",
        "bar",
        "or",
        "near",
        "x",
        "user",
        "id",
        "abc",
    ]
    assert query.terms("") == [] and query.terms("-- ** ()") == []
    assert len(query.terms(" ".join(f"w{n}" for n in range(20)))) == query.MAX_TERMS


def test_match_expressions_quote_every_term() -> None:
    assert (
        query.fts5_match("content", "u1", ["a", "b"]) == 'user_id:"u1" AND content:("a"* AND "b"*)'
    )
    assert query.tsquery(["a", "b"]) == "a:* & b:*"


def test_snippet_ranges_cover_prefix_matches() -> None:
    found = query.snippet("Deploying the deploy-bot, redeploy later", ["deploy"])
    assert [found.text[a:b] for a, b in found.highlights] == ["Deploying", "deploy"]


def test_rank_counts_prefix_matches_and_weighs_length() -> None:
    def rank(text: str, *words: str) -> float:
        return query.rank(text, list(words), average_length=8)

    assert rank("nothing here", "zebra") == 0.0
    # More matches rank higher, with diminishing returns; a word inside another is no match.
    assert rank("zebra zebras zebra", "zebra") > rank("zebra and more", "zebra") > 0
    assert rank("a zebra", "zebra") == rank("a Zebras!", "zebra")
    assert rank("the antizebra", "zebra") == 0.0
    # The same matches in a longer text rank lower.
    short, long = "zebra fence", "zebra " + "fence " * 30
    assert rank(short, "zebra") > rank(long, "zebra")
    # Each word counts: a text with both words beats one with only one of them twice.
    assert rank("deploy payments", "deploy", "pay") > rank("deploy deploy", "deploy", "pay")


def test_snippet_parts_alternate_text_and_hits() -> None:
    parts = snippet_parts(Snippet("a kiwi and a Kiwis", ((2, 6), (13, 18))))
    assert parts == [
        SnippetPart("a ", False),
        SnippetPart("kiwi", True),
        SnippetPart(" and a ", False),
        SnippetPart("Kiwis", True),
    ]


def test_a_message_hit_links_to_its_position() -> None:
    at = datetime(2026, 5, 4, tzinfo=UTC)
    hit = SearchHit("s1", "T", True, 9, 42, Snippet("x"), at)
    view = search_result_view(hit)
    assert view.href == "/s/s1?m=42" and view.when == "2026-05-04 · archived"
    assert routes.message_seq_from_query({"m": "42"}) == 42
    assert routes.message_seq_from_query({"m": "-1"}) == 0
    assert routes.message_seq_from_query({}) == 0
