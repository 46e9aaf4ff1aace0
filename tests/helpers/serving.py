"""The app served by a process of its own, as an operator runs it (`widget serve`,
gunicorn): its environment, and waiting until it answers."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest


def app_env(database_url: str, instance: Path, base: str, **settings: str) -> dict:
    """The calling shell's environment without its WIDGET_*, DATABASE_URL and gunicorn
    settings, then the app's: its database, instance folder and URL, no worker thread,
    and `settings` (WIDGET_… names) on top."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WIDGET_", "DATABASE_URL", "GUNICORN_"))}
    env.update(DATABASE_URL=database_url, WIDGET_INSTANCE_PATH=str(instance),
               WIDGET_BASE_URL=base, WIDGET_WORKER="off", **settings)
    return env


def wait_healthy(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30):
    """Poll `base`/healthz until it answers; fail the test with the log when the process
    ended or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2)
            return
        except OSError:  # not listening yet, or still starting
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{proc.args[2:4]} did not start:\n" + log_path.read_text())
            time.sleep(0.1)


@contextmanager
def serving(args: list[str], env: dict, base: str, log_path: Path):
    """`python -m <args>` serving `base` until the block ends; yields the process."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, proc, log_path)
            yield proc
        finally:
            proc.terminate()
            proc.wait(10)
