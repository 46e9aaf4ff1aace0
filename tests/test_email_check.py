"""The address check every sign-up, story and import passes: its short way for common
addresses answers exactly as email_validator would, for good and bad addresses alike."""
import pytest
from email_validator import EmailNotValidError, validate_email
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from widget.core.errors import ApiError
from widget.sites.checks import checked_email

LOCAL = st.text("abcXYZ019._+-!'", min_size=0, max_size=70) | st.sampled_from(
    ["Postmaster", "ABUSE", "a..b", ".a", "a.", "o'neil", "x" * 65])
DOMAIN = st.text("abcxyz0-9.[]", min_size=0, max_size=30) | st.sampled_from(
    ["example.com", "EXAMPLE.com", "mail.localhost", "a.test", "ab--c.com", "xn--bcher-kva.de",
     "XN--BCHER-KVA.de", "a.123", "a" * 64 + ".com", "[127.0.0.1]", "a..com", "-a.com",
     "a.b.c.d.invalid", "x.onion", ("a" * 60 + ".") * 4 + "com"])


@pytest.fixture(autouse=True)
def app_context():
    # The long way asks the app's mail settings about addresses beyond ASCII (none here).
    with Flask(__name__).app_context():
        yield


def expected(address: str):
    """What checked_email gave when every address went through validate_email."""
    try:
        checked = validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return ("invalid_email", str(exc))
    if len(checked.local_part.encode()) > 64 or len(checked.normalized.encode()) > 254:
        return ("invalid_email", "The address is longer than e-mail allows.")
    return checked.normalized, checked.normalized.lower()


def got(address: str):
    try:
        return checked_email(address)
    except ApiError as err:
        return (err.code, err.message)


@settings(max_examples=1500, deadline=None)
@given(LOCAL, DOMAIN, st.sampled_from(["@", "@", "@@", ""]))
def test_the_short_way_answers_as_email_validator(local, domain, at):
    address = f"{local}{at}{domain}"
    if address:
        assert got(address) == expected(address)
        assert got(address) == expected(address)  # asked again: the domain's cached answer


def test_common_addresses_keep_their_case_and_lower_their_domain():
    assert checked_email("Ada.Lovelace+news@Example.COM") == (
        "Ada.Lovelace+news@example.com", "ada.lovelace+news@example.com")
    assert got("ada@localhost.localhost")[0] == "invalid_email"
    assert got("a@xn--bcher-kva.de") == ("a@bücher.de", "a@bücher.de")
