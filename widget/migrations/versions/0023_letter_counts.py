"""letters.sent_count, skipped_count, failed_count: a sent letter's outcome, kept when it
is done, so the letters page does not count 100,000 outbox rows a letter.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

COUNTS = ('sent_count', 'skipped_count', 'failed_count')


def upgrade() -> None:
    for name in COUNTS:
        op.add_column('letters', sa.Column(name, sa.Integer(), nullable=True))


def downgrade() -> None:
    for name in COUNTS:
        op.drop_column('letters', name)
