"""partial outbox indexes: the look-ups by webhook, connector, subscriber, story, referral
and gift grant index only the rows that have one, so an e-mail row (none of the first
two, often none of the last three) adds fewer index entries to a sign-up's commit.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_outbox_webhook_created': ['webhook_id', 'created_at'],
    'ix_outbox_webhook_contact': ['webhook_id', 'contact_id', 'id'],
    'ix_outbox_connector_contact': ['connector_id', 'contact_id', 'id'],
    'ix_outbox_subscriber': ['subscriber_id'],
    'ix_outbox_story': ['story_id'],
    'ix_outbox_referral': ['referral_id'],
    'ix_outbox_grant': ['grant_id'],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        where = sa.text(f'{columns[0]} IS NOT NULL')
        op.drop_index(name, table_name='outbox')
        op.create_index(name, 'outbox', columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='outbox')
        op.create_index(name, 'outbox', columns)
