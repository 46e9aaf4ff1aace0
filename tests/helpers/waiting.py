"""Waiting for something to happen, with a deadline instead of a fixed sleep."""
from __future__ import annotations

import time

import pytest


def wait_until(check, what: str = "the condition", timeout: float = 15.0):
    """Poll `check` until it returns something truthy and return that; fail the test
    after `timeout` seconds (the outbox worker runs in another thread or process)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
