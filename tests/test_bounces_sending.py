"""How e-mail leaves for bounces to come back (issue 18, part 5): every e-mail to a
subscriber leaves with its own unforgeable VERP return path (an owner's own mail keeps
its MAIL FROM), and DKIM signatures verify, a missing or unusable key failing at start-up.
Real SMTP (aiosmtpd), real databases (SQLite and PostgreSQL). Reading the bounces that
come back is tests/test_bounces.py's."""
from __future__ import annotations

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from widget import settings
from widget.mail import verp
from widget.subscribers import lifecycle
from widget.models import OutboxMessage, Subscriber, utcnow

from .helpers import bounces as shared
from .helpers.bounces import READERS, drain, new_post, reader, return_path

pytestmark = pytest.mark.real_smtp
site = shared.site  # a site with three confirmed readers (a fixture)


def test_every_letter_leaves_with_its_own_unforgeable_return_path(app, site, query, smtp):
    new_post(app, query, site, 1)
    drain(app)
    smtp.mailbox.wait(3)
    paths = {email: return_path(smtp, email) for email in READERS}
    assert len(set(paths.values())) == 3
    for email, path in paths.items():
        local, _, domain = path.partition("@")
        assert domain == "blog.example" and local.startswith("news+b-") and len(local) <= 64
        row = query(lambda s: s.get(OutboxMessage, verp.decode(app.config, path.upper())))
        assert (row.kind, row.subscriber_id) == ("letter", reader(query, email).id)
    ann = paths[READERS[0]]
    message_id = verp.decode(app.config, ann)
    code = ann.partition("+b-")[2].partition("@")[0]
    number, _, mac = code.partition("-")
    forged = [ann.replace(code, f"{number}-{mac[:-1]}{'a' if mac[-1] != 'a' else 'b'}"),
              verp.address({**app.config, "SECRET_KEY": "another"}, message_id),
              ann.replace("news+b-", "other+b-"), ann.replace("@blog.", "@blog2.")]
    assert [verp.decode(app.config, f) for f in forged] == [None] * 4


def test_a_confirmation_has_a_return_path_and_an_owners_mail_keeps_mail_from(
        app, make_site, query, smtp):
    from widget.sites import accounts

    make_site()

    def queue(s):
        person = Subscriber(site_id=make_site(name="Other"), email="dee@reader.example",
                            email_normalized="dee@reader.example", status="pending",
                            status_at=utcnow(), lang="en")
        s.add(person)
        s.commit()
        with app.test_request_context():
            assert lifecycle.resend_confirmation(s, person)
            assert accounts.request_reset(s, "owner@example.com", "en",
                                          app.config["MAIL_FROM"])
        s.commit()
    query(queue)
    drain(app)
    smtp.mailbox.wait(2)
    row = query(lambda s: s.get(OutboxMessage, verp.decode(
        app.config, return_path(smtp, "dee@reader.example"))))
    assert row.kind == "confirm"
    assert return_path(smtp, "owner@example.com") == "news@blog.example"


def rsa_key() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


KEY, PUBLIC = rsa_key()


@pytest.mark.parametrize("app_config", [{"DKIM_KEY": KEY, "DKIM_SELECTOR": "w1"}],
                         indirect=True)
def test_a_sent_message_carries_a_dkim_signature_that_verifies(app, site, query, smtp):
    import base64

    raws = []
    keep = smtp.mailbox.handle_DATA

    async def keeping(server, session, envelope):
        raws.append(envelope.content)
        return await keep(server, session, envelope)
    smtp.mailbox.handle_DATA = keeping

    def pending(s):
        person = Subscriber(site_id=site, email="dee@reader.example", status="pending",
                            email_normalized="dee@reader.example", status_at=utcnow())
        s.add(person)
        s.commit()
        with app.test_request_context():
            assert lifecycle.resend_confirmation(s, person)
    query(pending)
    new_post(app, query, site, 1)
    drain(app)
    smtp.mailbox.wait(4)
    asked = []

    def dns(name, timeout=5):
        asked.append(name)
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(PUBLIC)
    assert len(raws) == 4
    for raw in raws:
        assert raw.startswith(b"DKIM-Signature: ")
        assert dkim.verify(raw, dnsfunc=dns)
    assert set(asked) == {b"w1._domainkey.blog.example."}  # the From address's domain
    for raw in raws:  # any change to what was signed breaks it
        assert not dkim.verify(raw.replace(b"\r\nSubject: ", b"\r\nSubject: Re: "), dnsfunc=dns)
    # Signed when rendered: what the outbox keeps (a letter's is dropped once sent) is
    # what went out, and what a retry would send.
    stored = query(lambda s: s.scalar(select(OutboxMessage.raw).where(
        OutboxMessage.kind == "confirm")))
    assert stored.encode() in raws


def test_a_missing_or_unusable_dkim_key_fails_at_start_up(monkeypatch, tmp_path):
    monkeypatch.setenv("WIDGET_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("WIDGET_DKIM_SELECTOR", "w1")
    monkeypatch.setenv("WIDGET_DKIM_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(settings.ConfigError, match="WIDGET_DKIM_KEY_FILE: cannot read"):
        settings.load()
    (tmp_path / "bad.pem").write_text("not a key")
    monkeypatch.setenv("WIDGET_DKIM_KEY_FILE", str(tmp_path / "bad.pem"))
    with pytest.raises(settings.ConfigError, match="holds no PEM RSA private key"):
        settings.load()
    (tmp_path / "good.pem").write_bytes(KEY)
    monkeypatch.setenv("WIDGET_DKIM_KEY_FILE", str(tmp_path / "good.pem"))
    assert settings.load()["DKIM_KEY"] == KEY
    monkeypatch.delenv("WIDGET_DKIM_SELECTOR")
    with pytest.raises(settings.ConfigError, match="go together"):
        settings.load()
    monkeypatch.delenv("WIDGET_DKIM_KEY_FILE")
    monkeypatch.setenv("WIDGET_BOUNCE_ADDRESS", "a-very-long-bounce-mailbox-name-indeed@x.example")
    with pytest.raises(settings.ConfigError, match="WIDGET_BOUNCE_ADDRESS its local part"):
        settings.load()
