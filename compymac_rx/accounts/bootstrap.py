"""Start step (after migrations, before the app): with SIGNUP=invite or closed and no admin
yet, print a single-use link that creates the first admin account.

`make run` and the container run it once per start, in one process (the app's own workers
would each print a different link). Each start replaces the previous unused link.
"""

from __future__ import annotations

from compymac_rx.accounts.invites import bootstrap_link
from compymac_rx.settings import get_settings


def main() -> None:
    link = bootstrap_link()
    if link is None:
        return
    settings = get_settings()
    print(
        f"bootstrap: SIGNUP={settings.signup} and no admin exists yet. Open this link once to "
        f"create the admin account (valid {settings.invite_ttl_hours} h, replaced at the next "
        f"start): {link}",
        flush=True,
    )


if __name__ == "__main__":
    main()
