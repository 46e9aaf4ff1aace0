"""Bounces: a subscriber's soft bounces, the last bounce's time and words (the status
"bounced" needs no change: status is a plain string); what came back for an outbox
message. Columns added in place on both databases.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('subscribers', sa.Column('soft_bounces', sa.Integer(), nullable=False,
                                           server_default='0'))
    op.add_column('subscribers', sa.Column('bounced_at', sa.DateTime(timezone=True),
                                           nullable=True))
    op.add_column('subscribers', sa.Column('bounce_note', sa.String(200), nullable=True))
    op.add_column('outbox', sa.Column('bounce', sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column('outbox', 'bounce')
    op.drop_column('subscribers', 'bounce_note')
    op.drop_column('subscribers', 'bounced_at')
    op.drop_column('subscribers', 'soft_bounces')
