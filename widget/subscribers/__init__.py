"""Subscribers: the one sign-up path and its write, confirm / unsubscribe / resubscribe,
and what a confirmation sets off."""
