"""Giving back: referral links and their rewards, the share page, stories, and social
proof that is true."""
