"""Sending a site's events out: signed webhooks and connectors to e-mail services.
Events are written by core/events.py with the change that causes them; the outbox
worker hands each delivery (kind "webhook" or "sync") to this package."""
