"""Settings: one table read by the app, the CLI's --help and docs/configuration.md."""
from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    env: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("WIDGET_ENV", "development",
            "'development' (laptop defaults) or 'production' (unsafe settings refuse to start)."),
    Setting("WIDGET_INSTANCE_PATH", "./instance",
            "Folder for the SQLite file and the generated secret key."),
    Setting("DATABASE_URL", None,
            "SQLAlchemy URL; default a SQLite file in the instance folder. "
            "PostgreSQL: postgresql+psycopg://user:pass@host/db"),
    Setting("WIDGET_BASE_URL", "http://127.0.0.1:5000",
            "Public URL of this service, used in every link it hands out (https in production)."),
    Setting("WIDGET_SECRET_KEY", None,
            "Signs sessions and links. Required in production; on a laptop one is generated "
            "and kept in the instance folder."),
    Setting("WIDGET_SITE_CACHE_SECONDS", "10",
            "How long each process keeps a site's widget config in memory (0: not at all)."),
    Setting("WIDGET_RATE_LIMITS", "on", "'off' disables rate limits (benchmarks, load tests)."),
    Setting("WIDGET_RATE_LIMIT_IP", "30/minute;300/hour",
            "Sign-ups accepted per client IP (limits syntax, ';' separates several)."),
    Setting("WIDGET_RATE_LIMIT_EMAIL", "5/hour;20/day",
            "Sign-ups accepted per site and e-mail address."),
    Setting("WIDGET_RATE_LIMIT_LOGIN", "10/minute;100/hour",
            "Dashboard log-in attempts accepted per client IP."),
    Setting("WIDGET_RATE_LIMIT_EVENTS", "120/minute",
            "Widget event batches accepted per client IP."),
    Setting("WIDGET_RATE_LIMIT_GIFT", "10/minute;100/day",
            "Gifts given first (no e-mail asked) per client IP."),
    Setting("WIDGET_RATE_LIMIT_STORY", "5/hour;20/day",
            "Stories sent per client IP."),
    Setting("WIDGET_RATE_LIMIT_KEY", "120/minute;5000/hour",
            "Owner API requests accepted per API key."),
    Setting("WIDGET_RATE_LIMIT_STORAGE", "memory://",
            "Where rate-limit counters live. memory:// counts per process; for several processes use redis://host (pip install redis)."),
    Setting("WIDGET_PROXY_COUNT", "0",
            "Number of trusted reverse proxies in front of the app (for client IP and https)."),
    Setting("WIDGET_MAX_BODY", "16384", "Largest accepted body of a public API request, in bytes."),
    Setting("WIDGET_GIFT_MAX_MB", "50",
            "Largest gift file an owner may upload, in megabytes (kept in the database)."),
    Setting("WIDGET_SMTP_URL", None,
            "Where e-mail goes: smtp://user:pass@host:587 (STARTTLS whenever offered; add "
            "?starttls=require to insist on it) or smtps://user:pass@host:465 (implicit TLS). "
            "Unset: a dev outbox the owner reads in the dashboard (required in production)."),
    Setting("WIDGET_SMTPUTF8", "auto",
            "Whether the mail server takes addresses with letters beyond ASCII before the @ "
            "(SMTPUTF8): 'auto' asks it now and then; 'on' or 'off' declares it. Where it "
            "cannot, such sign-ups are refused with a clear message."),
    Setting("WIDGET_MAIL_FROM", "widgets@localhost",
            "Sender address for sites that set none of their own (required in production)."),
    Setting("WIDGET_WORKER", "on",
            "'on': `widget serve` and `widget demo` send the outbox themselves; 'off' when "
            "separate `widget worker` processes do."),
    Setting("WIDGET_CONFIRM_RESEND_MINUTES", "10",
            "A repeated sign-up of a pending address re-sends the confirmation at most once "
            "in this many minutes."),
    Setting("WIDGET_MAIL_PER_ADDRESS_DAY", "3",
            "Confirmation e-mails one address can get in 24 hours, across all sites "
            "(the list-bomb guard)."),
    Setting("WIDGET_OUTBOX_RETRY_SECONDS", "30",
            "Wait before the first retry of a failed delivery; it doubles each time, up to an hour."),
    Setting("WIDGET_OUTBOX_MAX_ATTEMPTS", "8",
            "Delivery attempts before a message is marked failed (the owner can retry it)."),
    Setting("WIDGET_OUTBOX_LEASE_SECONDS", "300",
            "How long a worker holds a claimed message; after that (a worker died) another "
            "worker takes it over."),
    Setting("WIDGET_WEBHOOK_RETRY_HOURS", "72",
            "How long a webhook delivery is retried (back-off up to an hour) before the "
            "endpoint is switched off and its owner told by e-mail."),
    Setting("WIDGET_WEBHOOK_ALLOW_PRIVATE", "off",
            "'on' lets webhooks, self-hosted services and blog feeds reach loopback and "
            "private addresses (a listmonk on your LAN); or only the ones listed as "
            "address:port, comma-separated (10.0.0.7:9000, [fd00::7]:443); link-local and "
            "cloud metadata addresses stay refused."),
    Setting("WIDGET_FEED_POLL_MINUTES", "15",
            "How often each blog feed is fetched for new posts, in minutes (at least 15: "
            "feeds are read politely, with conditional GETs)."),
    Setting("WIDGET_LETTERS_PER_HOUR", "10000",
            "At most this many letters of new posts an hour per site (a site may set fewer), "
            "so a large list does not swamp the mail server or its reputation."),
    Setting("WIDGET_BOUNCE_ADDRESS", None,
            "Where bounces and complaints come back: each e-mail to a subscriber goes with "
            "its own return path, local+b-<code>@domain (VERP), read by `widget bounces`. "
            "Default: WIDGET_MAIL_FROM."),
    Setting("WIDGET_SOFT_BOUNCE_LIMIT", "3",
            "Temporary failures (a full mailbox …) after which an address counts as bounced "
            "and gets no more mail; a new confirmation starts the count again."),
    Setting("WIDGET_DKIM_KEY_FILE", None,
            "A PEM RSA private key: every e-mail is DKIM-signed for its From address's domain "
            "(needs WIDGET_DKIM_SELECTOR; the public key in DNS at "
            "<selector>._domainkey.<domain>)."),
    Setting("WIDGET_DKIM_SELECTOR", None, "The DKIM selector the key is published under."),
)

INTEGERS = ("WIDGET_PROXY_COUNT", "WIDGET_SITE_CACHE_SECONDS", "WIDGET_MAX_BODY",
            "WIDGET_CONFIRM_RESEND_MINUTES", "WIDGET_MAIL_PER_ADDRESS_DAY",
            "WIDGET_OUTBOX_RETRY_SECONDS", "WIDGET_OUTBOX_MAX_ATTEMPTS",
            "WIDGET_OUTBOX_LEASE_SECONDS", "WIDGET_GIFT_MAX_MB", "WIDGET_WEBHOOK_RETRY_HOURS",
            "WIDGET_FEED_POLL_MINUTES", "WIDGET_LETTERS_PER_HOUR", "WIDGET_SOFT_BOUNCE_LIMIT")
FEED_POLL_FLOOR = 15  # minutes: no blog is asked for its feed more often


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message says which and how to fix it."""


def _env(name: str) -> str | None:
    for s in SETTINGS:
        if s.env == name:
            value = os.environ.get(name, "").strip()
            return value or s.default
    raise KeyError(name)


def _persisted_secret(instance: Path) -> str:
    """Read the instance's secret key, creating it (mode 0600) on first start."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def load() -> dict:
    """Build the Flask config mapping from the environment, refusing unsafe production set-ups."""
    env = _env("WIDGET_ENV")
    if env not in ("development", "production"):
        raise ConfigError(f"WIDGET_ENV must be 'development' or 'production', not {env!r}.")
    instance = Path(_env("WIDGET_INSTANCE_PATH")).expanduser().resolve()
    instance.mkdir(parents=True, exist_ok=True)
    base_url = _env("WIDGET_BASE_URL").rstrip("/")
    secret = _env("WIDGET_SECRET_KEY")
    if env == "production":
        problems = []
        if not secret or len(secret) < 32:
            problems.append("WIDGET_SECRET_KEY must be set to a random value of 32+ characters "
                            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))').")
        if not os.environ.get("WIDGET_BASE_URL", "").startswith("https://"):
            problems.append("WIDGET_BASE_URL must be the public https:// URL of the service.")
        if not _env("WIDGET_SMTP_URL"):
            problems.append("WIDGET_SMTP_URL must name your mail server "
                            "(smtp://user:pass@host:587), or e-mail is never sent.")
        if not os.environ.get("WIDGET_MAIL_FROM", "").strip():
            problems.append("WIDGET_MAIL_FROM must be an address your mail server may send from.")
        if problems:
            raise ConfigError("Unsafe production settings:\n  - " + "\n  - ".join(problems))
    if not secret:
        secret = _persisted_secret(instance)
    numbers = {}
    for name in INTEGERS:
        try:
            numbers[name] = int(_env(name))
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {_env(name)!r}.") from None
    if numbers["WIDGET_FEED_POLL_MINUTES"] < FEED_POLL_FLOOR:
        raise ConfigError(f"WIDGET_FEED_POLL_MINUTES must be at least {FEED_POLL_FLOOR}, "
                          f"not {numbers['WIDGET_FEED_POLL_MINUTES']}.")
    smtp_url = _env("WIDGET_SMTP_URL")
    if smtp_url:
        from widget.core.smtp import SmtpSettings  # checked now: a typo fails at start-up

        try:
            SmtpSettings.parse(smtp_url)
        except ValueError as exc:
            raise ConfigError(f"WIDGET_SMTP_URL: {exc}") from None
    smtputf8 = _env("WIDGET_SMTPUTF8").lower()
    if smtputf8 not in ("auto", "on", "off"):
        raise ConfigError(f"WIDGET_SMTPUTF8 must be auto, on or off, not {smtputf8!r}.")
    allow_private = private_allowed(_env("WIDGET_WEBHOOK_ALLOW_PRIVATE"))
    bounce = _bounce_settings()
    return {
        "ENV_NAME": env,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": _env("DATABASE_URL") or f"sqlite:///{instance / 'widget.sqlite3'}",
        "BASE_URL": base_url,
        "SECRET_KEY": secret,
        "RATE_LIMITS": _env("WIDGET_RATE_LIMITS").lower() not in ("off", "0", "false", "no"),
        "RATE_LIMIT_IP": _env("WIDGET_RATE_LIMIT_IP"),
        "RATE_LIMIT_EMAIL": _env("WIDGET_RATE_LIMIT_EMAIL"),
        "RATE_LIMIT_LOGIN": _env("WIDGET_RATE_LIMIT_LOGIN"),
        "RATE_LIMIT_EVENTS": _env("WIDGET_RATE_LIMIT_EVENTS"),
        "RATE_LIMIT_GIFT": _env("WIDGET_RATE_LIMIT_GIFT"),
        "RATE_LIMIT_STORY": _env("WIDGET_RATE_LIMIT_STORY"),
        "RATE_LIMIT_KEY": _env("WIDGET_RATE_LIMIT_KEY"),
        "RATE_LIMIT_STORAGE": _env("WIDGET_RATE_LIMIT_STORAGE"),
        "PROXY_COUNT": numbers["WIDGET_PROXY_COUNT"],
        "SITE_CACHE_SECONDS": numbers["WIDGET_SITE_CACHE_SECONDS"],
        "MAX_BODY": numbers["WIDGET_MAX_BODY"],
        "GIFT_MAX_BYTES": numbers["WIDGET_GIFT_MAX_MB"] << 20,
        "SMTP_URL": smtp_url,
        "SMTPUTF8": smtputf8,
        "MAIL_FROM": _env("WIDGET_MAIL_FROM"),
        "WORKER": _env("WIDGET_WORKER").lower() not in ("off", "0", "false", "no"),
        "CONFIRM_RESEND_MINUTES": numbers["WIDGET_CONFIRM_RESEND_MINUTES"],
        "MAIL_PER_ADDRESS_DAY": numbers["WIDGET_MAIL_PER_ADDRESS_DAY"],
        "OUTBOX_RETRY_SECONDS": numbers["WIDGET_OUTBOX_RETRY_SECONDS"],
        "OUTBOX_MAX_ATTEMPTS": numbers["WIDGET_OUTBOX_MAX_ATTEMPTS"],
        "OUTBOX_LEASE_SECONDS": numbers["WIDGET_OUTBOX_LEASE_SECONDS"],
        "WEBHOOK_RETRY_HOURS": numbers["WIDGET_WEBHOOK_RETRY_HOURS"],
        "WEBHOOK_ALLOW_PRIVATE": allow_private,
        "FEED_POLL_MINUTES": numbers["WIDGET_FEED_POLL_MINUTES"],
        "LETTERS_PER_HOUR": max(1, numbers["WIDGET_LETTERS_PER_HOUR"]),
        "SOFT_BOUNCE_LIMIT": max(1, numbers["WIDGET_SOFT_BOUNCE_LIMIT"]),
        **bounce,
        # Dashboard forms are small; the API and gift uploads set their own limits.
        "MAX_CONTENT_LENGTH": 1 << 20,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    }


def private_allowed(value: str) -> bool | frozenset[tuple[str, int]]:
    """WIDGET_WEBHOOK_ALLOW_PRIVATE: on (True), off (False), or the (address, port) pairs
    listed, which core/outbound.py lets through; anything else refuses to start (a typo
    must not open the LAN)."""
    value = value.strip().lower()
    if value in ("on", "off"):
        return value == "on"
    pairs = set()
    for item in filter(None, (part.strip() for part in value.split(","))):
        host, _, port = item.rpartition(":")
        try:
            address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(port)
        except ValueError:
            raise ConfigError("WIDGET_WEBHOOK_ALLOW_PRIVATE must be on, off, or addresses "
                              f"with their ports (10.0.0.7:9000), not {item!r}.") from None
        pairs.add((str(address), int(port)))
    if not pairs:
        raise ConfigError("WIDGET_WEBHOOK_ALLOW_PRIVATE must be on, off, or addresses with "
                          "their ports (10.0.0.7:9000).")
    return frozenset(pairs)


def _bounce_settings() -> dict:
    """The bounce address and the DKIM key, checked now: a typo or an unreadable key
    fails at start-up, not at the first e-mail."""
    from widget.mail import dkim, verp

    bounce = _env("WIDGET_BOUNCE_ADDRESS")
    problem = verp.check(bounce or _env("WIDGET_MAIL_FROM"))
    if problem:
        raise ConfigError(f"{'WIDGET_BOUNCE_ADDRESS' if bounce else 'WIDGET_MAIL_FROM'} "
                          f"{problem}.")
    key_file, selector = _env("WIDGET_DKIM_KEY_FILE"), _env("WIDGET_DKIM_SELECTOR")
    if bool(key_file) != bool(selector):
        raise ConfigError("WIDGET_DKIM_KEY_FILE and WIDGET_DKIM_SELECTOR go together: "
                          "set both to sign e-mail with DKIM, or neither.")
    try:
        key = dkim.load_key(key_file) if key_file else None
    except ValueError as exc:
        raise ConfigError(f"WIDGET_DKIM_KEY_FILE: {exc}.") from None
    return {"BOUNCE_ADDRESS": bounce, "DKIM_KEY": key, "DKIM_SELECTOR": selector}


def env_help() -> str:
    """The settings as text, for --help and docs."""
    return "\n".join(f"  {s.env:<26} {s.help} [default: {s.default or '-'}]" for s in SETTINGS)
