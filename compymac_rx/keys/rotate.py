"""Re-encrypt every stored API key under the current master key.

Rotation: put a new key first in SECRET_KEYS (keep the old ones after it), restart, then run
`python -m compymac_rx.keys.rotate` (or `make rotate-keys`). When it reports 0 left, the old
key can be removed from SECRET_KEYS.
"""

from __future__ import annotations

from compymac_rx.crypto import keyring
from compymac_rx.keys.service import rotate_all


def main() -> None:
    kid = keyring()[0][0]
    count = rotate_all()
    print(f"rotate: re-encrypted {count} API key(s) under key id {kid!r}; 0 left under older keys")


if __name__ == "__main__":
    main()
