"""DKIM signatures (RFC 6376, dkimpy) on our e-mails, when the operator gives a key
(WIDGET_DKIM_KEY_FILE, a PEM RSA private key) and its selector (WIDGET_DKIM_SELECTOR);
the signing domain is the From header's, whose DNS publishes the public key at
<selector>._domainkey.<domain>.

A message is signed once, when it is rendered (mail/batch.py), so the bytes stored in
the outbox are the bytes that go out, and a retry sends the same signed message."""
from __future__ import annotations

from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key


def load_key(path: str) -> bytes:
    """The PEM private key in `path`; ValueError says why it cannot be used."""
    try:
        pem = Path(path).expanduser().read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        parse_pem_private_key(pem)
    except (UnparsableKeyError, ValueError, IndexError, TypeError):
        raise ValueError(f"{path} holds no PEM RSA private key") from None
    return pem


def from_domain(raw: str) -> str:
    """The domain of the From header's address in a whole message `raw`."""
    head = raw.split("\r\n\r\n", 1)[0]
    value = HeaderParser(policy=compat32).parsestr(head, headersonly=True)["From"] or ""
    return parseaddr(str(value))[1].rpartition("@")[2].lower()


def sign(raw: str, config) -> str:
    """`raw` with a DKIM-Signature header first, when the settings name a key; else `raw`."""
    key = config.get("DKIM_KEY")
    if not key:
        return raw
    signature = dkim.sign(raw.encode(), config["DKIM_SELECTOR"].encode(),
                          from_domain(raw).encode("idna"), key, linesep=b"\r\n")
    return signature.decode("ascii") + raw
