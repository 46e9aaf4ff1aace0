"""Mail over TLS with a real server: STARTTLS with a log-in, implicit TLS (smtps://),
and no delivery to a server whose certificate is not trusted or that refuses the log-in.

The worker runs as `python -m widget worker --once`, as an operator runs it; the test's
certificate authority reaches it the way OpenSSL reads one, through SSL_CERT_FILE.
"""
from __future__ import annotations

import os
import ssl
import subprocess
import sys
import threading

import pytest
from sqlalchemy import select

from widget.models import OutboxMessage

from .helpers.smtp import free_port


class TlsMailbox:
    """Records each message with whether its connection was encrypted and for whom."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            tls = server.transport.get_extra_info("ssl_object")
            self.received.append({"tls": tls is not None and tls.version() in ("TLSv1.2", "TLSv1.3"),
                                  "to": list(envelope.rcpt_tos)})
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"ann" and auth_data.password == "sécret".encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 and the server's TLS context."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def _run_worker(app, smtp_url: str, tmp_path, cert=None) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WIDGET_", "DATABASE_URL", "SSL_CERT"))}
    env.update(DATABASE_URL=app.config["DATABASE_URL"], WIDGET_SMTP_URL=smtp_url,
               WIDGET_INSTANCE_PATH=str(tmp_path / "worker"), WIDGET_MAIL_FROM="news@blog.example")
    if cert:
        env["SSL_CERT_FILE"] = str(cert)
    done = subprocess.run([sys.executable, "-m", "widget", "worker", "--once"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def send_one(app, client, make_site, query, tmp_path):
    """Sign one reader up, then run a worker against a TLS server of the given kind:
    send_one(url_template, cert, **server_options) -> (what the server got, outbox row);
    cert: the CA file the worker trusts, or None for the system's own.
    `url_template` names the server's port as {port}."""
    from aiosmtpd.controller import Controller

    def send(url_template: str, cert, **server_options):
        box, port = TlsMailbox(), free_port()
        controller = Controller(box, hostname="127.0.0.1", port=port, **server_options)
        controller.start()
        try:
            site = make_site()
            assert client.post(f"/api/v1/sites/{site}/subscriptions",
                               json={"email": "tls@example.com", "consent": True}
                               ).status_code == 200
            _run_worker(app, url_template.format(port=port), tmp_path, cert)
        finally:
            controller.stop()
        return box.received, query(lambda s: s.scalar(select(OutboxMessage)))

    return send


def test_starttls_with_a_log_in(send_one, certificate):
    cert, context = certificate
    received, row = send_one("smtp://ann:s%C3%A9cret@127.0.0.1:{port}?starttls=require", cert,
                             tls_context=context, require_starttls=True, auth_required=True,
                             authenticator=authenticator)
    assert row.status == "sent", row.last_error
    assert [(m["tls"], m["to"]) for m in received] == [(True, ["tls@example.com"])]


def test_implicit_tls(send_one, certificate):
    cert, context = certificate
    received, row = send_one("smtps://127.0.0.1:{port}", cert, ssl_context=context)
    assert [(m["tls"], m["to"]) for m in received] == [(True, ["tls@example.com"])]
    assert row.status == "sent"


def test_an_untrusted_certificate_gets_nothing(send_one, certificate):
    _cert, context = certificate
    received, row = send_one("smtp://127.0.0.1:{port}", None, tls_context=context,
                             require_starttls=True)
    assert received == []
    assert row.status == "queued" and "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_a_refused_log_in_keeps_the_message_for_later(send_one, certificate):
    cert, context = certificate
    received, row = send_one("smtp://ann:wrong@127.0.0.1:{port}", cert, tls_context=context,
                             require_starttls=True, auth_required=True,
                             authenticator=authenticator)
    assert received == []
    assert row.status == "queued" and row.last_error.startswith("log-in refused: 535")
