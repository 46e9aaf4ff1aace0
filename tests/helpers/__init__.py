"""Helpers test modules import: plain functions and classes, no fixtures (those live in
tests/fixtures/ and are asked for by name)."""
