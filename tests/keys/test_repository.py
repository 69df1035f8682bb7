"""keys.repository on both databases: a user's keys and preference are theirs alone."""

from __future__ import annotations

from compymac_rx.db import session_scope
from compymac_rx.keys import repository
from compymac_rx.keys.models import ApiKey, ModelPreference
from tests.factories import make_user


def add_key(user_id: str, provider: str, key_id: str = "k1") -> None:
    with session_scope() as db:
        db.add(
            ApiKey(
                user_id=user_id,
                provider=provider,
                secret=f"v1.{key_id}.sealed-{provider}",
                key_id=key_id,
                hint="…abcd",
            )
        )


def test_keys_are_listed_read_and_deleted_only_by_their_owner() -> None:
    alice, bob = make_user(), make_user()
    add_key(alice.id, "openrouter")
    add_key(alice.id, "openai")
    with session_scope() as db:
        assert repository.list_keys(db, user_id=bob.id) == []
        assert repository.get_key(db, user_id=bob.id, provider="openai") is None
        assert not repository.delete_key(db, user_id=bob.id, provider="openai")
    with session_scope() as db:
        # The control: alice's keys are there, in provider order, and hers to delete.
        assert [k.provider for k in repository.list_keys(db, user_id=alice.id)] == [
            "openai",
            "openrouter",
        ]
        assert repository.delete_key(db, user_id=alice.id, provider="openai")
    with session_scope() as db:
        assert [k.provider for k in repository.list_keys(db, user_id=alice.id)] == ["openrouter"]
        assert not repository.delete_key(db, user_id=alice.id, provider="openai")


def test_a_preference_is_read_for_its_owner_only() -> None:
    alice, bob = make_user(), make_user()
    with session_scope() as db:
        db.add(ModelPreference(user_id=alice.id, default_model="openai:fake-large"))
    with session_scope() as db:
        assert repository.get_preference(db, user_id=bob.id) is None
        mine = repository.get_preference(db, user_id=alice.id)
        assert mine is not None and mine.default_model == "openai:fake-large"


def test_rotation_batches_skip_current_and_unreadable_records() -> None:
    alice, bob = make_user(), make_user()
    add_key(alice.id, "openai", key_id="old")
    add_key(alice.id, "openrouter", key_id="new")
    add_key(bob.id, "openai", key_id="old")
    with session_scope() as db:
        batch = repository.keys_for_rotation(db, current_key_id="new", limit=10)
        assert sorted((k.user_id, k.provider) for k in batch) == sorted(
            [(alice.id, "openai"), (bob.id, "openai")]
        )
        skipped = repository.keys_for_rotation(
            db, current_key_id="new", limit=10, skip=[batch[0].id]
        )
        assert [k.id for k in skipped] == [batch[1].id]
        assert len(repository.keys_for_rotation(db, current_key_id="new", limit=1)) == 1
