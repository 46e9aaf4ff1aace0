"""Gifts: files, links, coupon codes and bonus texts given first or after a sign-up, the
signed links that deliver them, and the ledger of what was given to whom."""
