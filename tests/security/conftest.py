"""The security tests drive the same production app as tests/e2e (one per run of this folder)."""

from tests.e2e.conftest import app_server

__all__ = ["app_server"]
