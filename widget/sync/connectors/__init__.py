"""Connectors to e-mail services, one module a service (the interface: base.py).

SERVICES names each service's one instance by its key (connectors.service); a new
service is a module with a SERVICE, listed here."""
from __future__ import annotations

from widget.sync.connectors import brevo, buttondown, kit, listmonk, mailchimp, mailerlite
from widget.sync.connectors.base import Service

SERVICES: dict[str, Service] = {s.name: s for s in (
    mailchimp.SERVICE, kit.SERVICE, mailerlite.SERVICE, brevo.SERVICE, buttondown.SERVICE,
    listmonk.SERVICE)}
