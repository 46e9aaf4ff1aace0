"""Every fixture the tests ask for, registered once; each module in tests/fixtures/ holds
one concern. Helpers the tests import live in tests/helpers/."""

pytest_plugins = [
    "tests.fixtures.database",  # a fresh SQLite (and PostgreSQL) database per test
    "tests.fixtures.app",       # the app's settings, the app on that database, rows in it
    "tests.fixtures.http",      # the app over real HTTP, its clients, a logged-in owner
    "tests.fixtures.mail",      # a real SMTP server, mail settings, the outbox worker
    "tests.fixtures.browser",   # Chromium, `widget demo`, a third origin for host pages
]
