"""Owners' sites: accounts, allowed origins, colours, targeting, the per-process site
snapshot the public endpoints read, and the checks every public request passes first."""
