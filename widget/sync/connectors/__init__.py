"""Connectors to e-mail services, one module a service."""
