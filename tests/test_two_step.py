"""Two-step log-in over real HTTP: set up with a code from the app (a wrong one refused),
recovery codes shown once; then the password alone logs nobody in, the app's code does
(once per window: a replay is refused), a recovery code works once; turned off only with
the current password. The secret is stored sealed. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
import time
from html import unescape

import pyotp
from sqlalchemy import select

from widget.models import Owner

from .helpers.http import PASSWORD, csrf_post


def secret_on(page: str) -> str:
    return re.search(r"<code>([A-Z2-7]{32})</code>", page).group(1)


def log_in_with_code(client, code: str, email: str = "ann@example.com"):
    first = client.login(email)
    assert first.status_code == 302 and "/dashboard/login/code" in first.headers["Location"]
    return csrf_post(client, "/dashboard/login/code", {"code": code})


def test_two_step_log_in_from_set_up_to_recovery(ann, make_client, query):
    page = ann.get("/dashboard/account/two-step")
    assert page.status_code == 200 and "<svg" in page.text
    secret = secret_on(page.text)
    wrong = csrf_post(ann, "/dashboard/account/two-step", {"code": "000000"})
    assert wrong.status_code == 422 and "does not fit" in wrong.text
    done = csrf_post(ann, "/dashboard/account/two-step",
                     {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "shown only now" in " ".join(done.text.split())
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", unescape(done.text))
    assert len(codes) == 10
    stored = query(lambda s: s.scalar(select(Owner.totp_secret)))
    assert stored and secret not in stored  # sealed

    # The password alone is not enough; the app's code is, once per 30-second window.
    phone = make_client()
    assert phone.login("ann@example.com").status_code == 302
    assert phone.get("/dashboard/").status_code == 302  # not logged in yet
    bad = csrf_post(phone, "/dashboard/login/code", {"code": "123456"})
    assert bad.status_code == 401 and "does not fit" in bad.text
    # The set-up used this window's code: the next window's (a clock 30 s ahead) fits.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    ok = csrf_post(phone, "/dashboard/login/code", {"code": code})
    assert ok.status_code == 302 and phone.get("/dashboard/").status_code == 200
    replay = log_in_with_code(make_client(), code)
    assert replay.status_code == 401  # the same code, replayed

    # A recovery code works once.
    laptop = make_client()
    assert log_in_with_code(laptop, codes[0].upper()).status_code == 302
    assert "9 left" in laptop.get("/dashboard/").text
    assert log_in_with_code(make_client(), codes[0]).status_code == 401

    # Off only with the current password.
    refused = csrf_post(ann, "/dashboard/account/two-step/off", {"off-current": "nope nope"},
                        page="/dashboard/account")
    assert refused.status_code == 302 and query(lambda s: s.scalar(select(Owner.totp_secret)))
    off = csrf_post(ann, "/dashboard/account/two-step/off", {"off-current": PASSWORD},
                    page="/dashboard/account")
    assert off.status_code == 302 and query(lambda s: s.scalar(select(Owner.totp_secret))) is None
    assert make_client().login("ann@example.com").headers["Location"].endswith("/dashboard/")


def test_the_code_page_needs_the_password_first(make_client, make_owner):
    make_owner("ann@example.com")
    stranger = make_client()
    resp = csrf_post(stranger, "/dashboard/login/code", {"code": "123456"},
                     page="/dashboard/login")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dashboard/login")
    assert stranger.get("/dashboard/").status_code == 302
