"""One-off: the first account claims the sessions that have no owner.

Sessions from a single-user install carry a user id that names no account. Run once, after
the first account exists (its sign-up made it the admin):

    make claim-sessions                      # the first account takes them
    make claim-sessions ARGS='--email a@b.c --dry-run'

Each session keeps its messages and jobs; its workspace folder moves under the new owner.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from compymac_rx import workspaces
from compymac_rx.accounts import repository as accounts
from compymac_rx.chats import repository as chats
from compymac_rx.db import session_scope
from compymac_rx.settings import get_settings


class ClaimError(Exception):
    pass


@dataclass(frozen=True)
class Claimed:
    owner_email: str
    session_ids: list[str]


def claim_ownerless_sessions(*, email: str | None = None, dry_run: bool = False) -> Claimed:
    root = get_settings().workspaces_root
    with session_scope() as db:
        owner = (
            accounts.get_user_by_email(db, email=email.strip().lower())
            if email
            else accounts.first_user(db)
        )
        if owner is None:
            raise ClaimError(
                f"No account with the email {email}."
                if email
                else "No account exists yet: "
                "sign up first (the first account becomes the admin), then run this again."
            )
        found = chats.ownerless_sessions(db, owners=accounts.user_ids())
        claimed = Claimed(owner.email, [s.id for s in found])
        if dry_run:
            return claimed
        for row in found:
            old = Path(row.workspace_path)
            new = workspaces.workspace_path(root, owner.id, row.id)
            if old.is_dir() and old.resolve() != new.resolve():
                new.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(old), str(new))
            else:
                workspaces.create_workspace(new)
            chats.give_session_to(
                db,
                session_id=row.id,
                from_user_id=row.user_id,
                to_user_id=owner.id,
                workspace_path=str(new.resolve()),
            )
    return claimed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compymac_rx.ops.claim",
        description="Give the sessions without an owner to the first account (or --email).",
    )
    parser.add_argument("--email", help="the account that takes them (default: the first one)")
    parser.add_argument("--dry-run", action="store_true", help="only say what would move")
    args = parser.parse_args(argv)
    try:
        result = claim_ownerless_sessions(email=args.email, dry_run=args.dry_run)
    except ClaimError as error:
        print(f"claim-sessions: {error}", file=sys.stderr)
        return 1
    verb = "would give" if args.dry_run else "gave"
    print(f"claim-sessions: {verb} {len(result.session_ids)} session(s) to {result.owner_email}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
