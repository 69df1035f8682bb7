"""Re-encrypt every encrypted column under the current master key: users' API keys, the
issuer's tokens kept with each sign-in, and the code verifiers of sign-ins in flight.

Rotation: put a new key first in SECRET_KEYS (keep the old ones after it), restart, then run
`python -m compymac_rx.ops.rotate` (or `make rotate-keys`). When it reports nothing left,
the old key can be removed from SECRET_KEYS. A sign-in whose tokens no listed key opens is
ended (the person signs in again); an API key no listed key opens is reported and kept.
"""

from __future__ import annotations

from compymac_rx.accounts.rotation import rotate_issuer_tokens
from compymac_rx.audit import service as audit
from compymac_rx.crypto import keyring
from compymac_rx.keys.service import rotate_all


def main() -> None:
    kid = keyring()[0][0]
    keys, unreadable = rotate_all()
    tokens = rotate_issuer_tokens()
    # The operator's command: no actor, no address; the key id is a label, not the key.
    audit.record(
        "keys.rotate",
        target=f"master-key:{kid}",
        detail={
            "api_keys": keys,
            "unreadable": unreadable,
            "signins": tokens.reencrypted,
            "ended": tokens.ended,
        },
        ip="",
        user_agent="",
    )
    print(
        f"rotate: under key id {kid!r}: re-encrypted {keys} API key(s) and the tokens of "
        f"{tokens.reencrypted} sign-in(s); ended {tokens.ended} sign-in(s) whose tokens no "
        f"listed key opens; {unreadable} API key(s) unreadable (their owners must enter them "
        "again). Nothing else is left under older keys."
    )


if __name__ == "__main__":
    main()
