"""What every capability shares: the database and plain SQL, migrations, signed tokens,
the one error helper, rate limits, the i18n machinery, the outbox queue, shipped assets
and how pages behind links answer. Imports nothing above it."""
