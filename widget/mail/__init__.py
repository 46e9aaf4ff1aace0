"""E-mail: the outbox every message goes through, its worker, rendering and SMTP."""
