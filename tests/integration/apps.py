"""App backends as real `reflex run --env prod` processes, each from its own copy of the app.

Each backend bakes its own port into its frontend build, so two backends cannot share one
`.web` folder: each runs from a copy of the project (a few files; the frontend packages come
from bun's cache after the first install).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import ROOT, stop_group, wait_until_up
from tests.services import free_port

COPIED = ("compymac_rx", "assets", "alembic", "alembic.ini", "rxconfig.py", "reflex.lock")
BIN = Path(sys.executable).parent


def reflex_prod(port: int) -> list[str]:
    """`reflex run` in production on one port (rxconfig's backend port is development's)."""
    ports = ["--frontend-port", str(port), "--backend-port", str(port)]
    return [str(BIN / "reflex"), "run", "--env", "prod", "--single-port", *ports]


def make_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, dest / name)
    return dest


class AppBackend:
    """One `reflex run --env prod --single-port` process; can be stopped and started again."""

    def __init__(
        self, folder: Path, env: dict[str, str], name: str, port: int | None = None
    ) -> None:
        self.folder = make_copy(folder)
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}"
        self.name = name
        self.log = folder.parent / f"{name}.log"
        self.env = {
            **os.environ,
            **env,
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "PATH": f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{os.environ['PATH']}",
            "REFLEX_USE_SYSTEM_BUN": "1",
            "REFLEX_TELEMETRY_ENABLED": "false",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 300) -> None:
        self.launch()
        self.wait_up(timeout)

    def launch(self) -> None:
        """Start the process without waiting for it (`wait_up` waits)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                reflex_prod(self.port),
                cwd=self.folder,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_up(self, timeout: float = 300) -> None:
        assert self.process is not None
        wait_until_up(f"{self.url}/health", self.process, self.log, timeout=timeout)
        wait_until_up(f"{self.url}/signin", self.process, self.log, timeout=60)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None
