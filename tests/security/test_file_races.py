"""The symlink race: a command swaps folders for symlinks while the app works the workspace.

Inside the real bubblewrap sandbox (run_command, as the agent runs it) a small Python program
calls renameat2(RENAME_EXCHANGE) in a loop, swapping folders of the workspace with symlinks
that point at a canary folder outside and at another user's workspace. Meanwhile threads
hammer the file panel (tree, preview, download over the real HTTP route, upload, delete),
the size count and the agent's file tools. Nothing outside the workspace may ever be read,
listed, written or removed. A naive path-based reader runs beside them as the positive
control: it does reach the canary, which proves the window was really open.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from compymac_rx import beneath
from compymac_rx.agent.sandbox import SandboxLimits, run_command
from compymac_rx.agent.tools import Toolbox
from compymac_rx.agent.types import ToolCall
from compymac_rx.chats import service as chats
from compymac_rx.files import service as files
from compymac_rx.files.http import file_routes
from compymac_rx.settings import get_settings
from compymac_rx.workspaces import workspace_size
from tests.conftest import clear_caches
from tests.factories import make_user, signed_in_token
from tests.waiting import wait_until

# The race runs at least MIN_SECONDS, then until every operation has both succeeded and met a
# swapped symlink (a loaded machine needs longer), at most MAX_SECONDS.
MIN_SECONDS, MAX_SECONDS = 4.0, 40.0
LIMITS = SandboxLimits(
    timeout_seconds=MAX_SECONDS + 15, cpu_seconds=60, memory_mb=256, max_processes=32,
    output_limit=10_000,
)  # fmt: skip
# What must never come back: contents and names that exist only outside the workspace.
FORBIDDEN = ("CANARY-SECRET", "OTHER-USER-SECRET", "canary-only-name", "other-user-only-name")

SWAPPER = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
RENAME_EXCHANGE = 2
pairs = [(b"d1", b"l1"), (b"d2", b"l2"), (b"up.txt", b"up_link")]
end = time.monotonic() + float(sys.argv[1])
swaps = 0
while time.monotonic() < end and not (swaps % 3000 == 0 and os.path.exists("stop")):
    for a, b in pairs:
        if libc.renameat2(-100, a, -100, b, RENAME_EXCHANGE) != 0:
            sys.exit(f"renameat2 failed: errno {ctypes.get_errno()}")
        swaps += 1
print("swaps", swaps, flush=True)
"""


def fill(folder: Path, secret: str, only: str) -> None:
    """A folder laid out like the workspace's d1, with other contents."""
    (folder / "sub").mkdir(parents=True)
    (folder / "tmpdir").mkdir()
    for name in ("file.txt", "victim.txt", "edit.txt", "new.txt", "sub/f.txt", "tmpdir/a.txt"):
        (folder / name).write_text(f"one {secret}\n")
    (folder / f"{only}.txt").write_text(secret)
    (folder / "up.txt").write_text(secret)


def snapshot(folder: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every entry with its mode, inode, mtime and content hash."""
    seen = {}
    for current, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(current) / name
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
            seen[str(path.relative_to(folder))] = (
                info.st_mode,
                info.st_ino,
                info.st_mtime_ns,
                digest,
            )
    return seen


class Hammer:
    """Runs operations in threads until stopped; counts successes, keeps every violation."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.ok: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.violations: list[str] = []
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def check(self, label: str, output: object) -> None:
        text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
        for word in FORBIDDEN:
            if word in text:
                with self._lock:
                    self.violations.append(f"{label}: {text[:200]!r}")

    def count(self, table: dict[str, int], label: str) -> None:
        with self._lock:
            table[label] = table.get(label, 0) + 1

    def run(self, label: str, operation: Callable[[], object]) -> None:
        def loop() -> None:
            while not self.stop.is_set():
                try:
                    self.check(label, operation())
                    self.count(self.ok, label)
                except (files.FileError, Refused) as error:
                    self.check(label, error)
                    self.count(self.refused, label)
                except Exception as error:  # reported by the test
                    self.errors.append(f"{label}: {type(error).__name__}: {error}")
                    return
                time.sleep(0)  # hand the GIL over: the slower downloads get their turns too

        thread = threading.Thread(target=loop, name=label, daemon=True)
        self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def enough(ok: dict[str, int], refused: dict[str, int], naive: dict[str, int]) -> bool:
    """Every operation succeeded and met a swapped symlink; the naive reader got out."""
    both = ("tree", "preview", "download", "upload", "delete", "delete-tree", "read_file")
    met = ("preview", "download", "read_file", "write_file", "list_files", "delete")
    return (
        all(ok.get(label, 0) > 0 for label in both)
        and all(refused.get(label, 0) > 0 for label in met)
        and naive["read"] > 0
        and naive["listed"] > 0
    )


class Refused(Exception):
    """A tool answered with an error (as it must when the folder is a symlink)."""


@pytest.mark.parametrize("mode", ["openat2", "fallback"])
def test_swapping_symlinks_never_leads_the_app_outside(
    mode: str, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UPLOADS_PER_MINUTE", "1000000")
    clear_caches()
    if mode == "fallback":  # as on kernels before 5.6: one O_NOFOLLOW open per component
        monkeypatch.setattr(beneath, "_openat2", lambda: None)
    assert beneath.uses_openat2() == (mode == "openat2")
    user, token = signed_in_token()
    session = chats.create_session(user.id)
    workspace = files.workspace_of(user.id, session.id)
    other = make_user()
    other_workspace = files.workspace_of(other.id, chats.create_session(other.id).id)
    canary = tmp_path / "canary"
    fill(canary, "CANARY-SECRET", "canary-only-name")
    (canary / "big.bin").write_bytes(os.urandom(3_000_000))
    fill(other_workspace, "OTHER-USER-SECRET", "other-user-only-name")
    for name in ("d1", "d2"):
        (workspace / name / "sub").mkdir(parents=True)
        (workspace / name / "file.txt").write_text("inside\n")
        (workspace / name / "edit.txt").write_text("one\n")
    (workspace / "l1").symlink_to(canary)
    (workspace / "l2").symlink_to(other_workspace)
    (workspace / "up.txt").write_text("inside\n")
    (workspace / "up_link").symlink_to(canary / "up.txt")
    (workspace / "swap.py").write_text(SWAPPER)
    before = {"canary": snapshot(canary), "other": snapshot(other_workspace)}

    swapper: dict[str, object] = {}

    def swap() -> None:
        swapper["result"] = run_command(workspace, f"python3 swap.py {MAX_SECONDS}", LIMITS)

    unswapped = (workspace / "d1").lstat().st_ino
    swap_thread = threading.Thread(target=swap)
    swap_thread.start()
    # bwrap is up and swapping: d1 names the other inode now and then (an exchange is atomic).
    wait_until(lambda: (workspace / "d1").lstat().st_ino != unswapped, timeout=20, interval=0.005)

    hammer = Hammer()
    toolbox = Toolbox(workspace, LIMITS, file_read_limit=10_000)
    client = TestClient(Starlette(routes=file_routes())).__enter__()  # one portal for all
    cookie = {"cookie": f"{get_settings().session_cookie_name}={token}"}

    def tool(name: str, **arguments: object) -> str:
        result = toolbox.call(ToolCall("c", name, dict(arguments)))
        if not result.ok:
            raise Refused(result.output)
        return result.output

    def download(path: str) -> bytes:
        response = client.get(f"/files/{session.id}/{path}", headers=cookie)
        if response.status_code == 404:
            raise Refused(response.text)
        assert response.status_code == 200, response.status_code
        assert response.content == b"inside\n"  # whole, and from the workspace
        return response.content

    def delete_file() -> str:
        tool("write_file", path="d1/victim.txt", content="inside\n")
        files.delete_path(user.id, session.id, "d1/victim.txt")
        return "deleted"

    def delete_tree() -> str:
        tool("write_file", path="d2/tmpdir/a.txt", content="inside\n")
        files.delete_path(user.id, session.id, "d2/tmpdir")
        return "deleted"

    def size() -> str:
        used = workspace_size(workspace)
        if used > 1_000_000:  # the canary's big.bin would show here
            hammer.violations.append(f"size counted {used} bytes: the canary's")
        return str(used)

    def edit() -> str:
        return tool("edit_file", path="d1/edit.txt", old_text="one", new_text="one")

    names = lambda: [e.path for e in files.list_tree(user.id, session.id)]  # noqa: E731
    hammer.run("tree", names)
    hammer.run("preview", lambda: files.preview(user.id, session.id, "d1/file.txt").text)
    hammer.run("preview-other", lambda: files.preview(user.id, session.id, "d2/file.txt").text)
    hammer.run("download", lambda: download("d1/file.txt"))
    hammer.run("download-other", lambda: download("d2/sub/../file.txt"))
    hammer.run("upload", lambda: files.save_upload(user.id, session.id, "up.txt", b"uploaded"))
    hammer.run("delete", delete_file)
    hammer.run("delete-tree", delete_tree)
    hammer.run("size", size)
    hammer.run("read_file", lambda: tool("read_file", path="d1/file.txt"))
    hammer.run("list_files", lambda: tool("list_files", path="d2"))
    hammer.run("search_text", lambda: tool("search_text", query="secret"))
    hammer.run("write_file", lambda: tool("write_file", path="d1/new.txt", content="agent\n"))
    hammer.run("edit_file", edit)

    # Positive control: the old way (check nothing, open by name) reaches the canary.
    naive = {"read": 0, "listed": 0}

    def naive_reader() -> None:
        while not hammer.stop.is_set():
            try:
                if "CANARY-SECRET" in (workspace / "d1" / "file.txt").read_text():
                    naive["read"] += 1
                if "other-user-only-name.txt" in os.listdir(workspace / "d2"):
                    naive["listed"] += 1
            except OSError:
                continue

    control = threading.Thread(target=naive_reader, daemon=True)
    control.start()
    started = time.monotonic()
    while swap_thread.is_alive() and not (
        time.monotonic() - started > MIN_SECONDS and enough(hammer.ok, hammer.refused, naive)
    ):
        time.sleep(0.2)
    (workspace / "stop").write_text("")
    swap_thread.join(timeout=MAX_SECONDS + 30)
    hammer.join()
    control.join(timeout=10)
    client.__exit__(None, None, None)

    result = swapper["result"]
    assert getattr(result, "exit_code", None) == 0, result
    found = re.search(r"swaps (\d+)", str(getattr(result, "output", "")))
    assert found is not None, result  # the swapper always reports its count
    swaps = int(found.group(1))
    summary = f"swaps: {swaps}, ok: {hammer.ok}, refused: {hammer.refused}, naive: {naive}"
    print(summary)
    assert hammer.violations == [], summary
    assert hammer.errors == [], summary
    assert swaps > 10_000, summary  # the loop really ran (tens of thousands of swaps)
    assert enough(hammer.ok, hammer.refused, naive), summary
    assert snapshot(canary) == before["canary"]  # nothing written or removed outside
    assert snapshot(other_workspace) == before["other"]
