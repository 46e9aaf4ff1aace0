"""indexes for keyset pages of the dashboard's tables: a gift's ledger, a webhook's
delivery log, and a site's failed e-mails (counted on the site page); partial indexes of
the contacts who brought or shared anything (the referrals page's leaderboard and totals).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_gift_grants_gift_created', 'gift_grants', ['gift_id', 'created_at'])
    op.create_index('ix_outbox_site_status', 'outbox', ['site_id', 'status'])
    op.create_index('ix_outbox_webhook_created', 'outbox', ['webhook_id', 'created_at'])
    op.create_index('ix_subscribers_site_leaders', 'subscribers',
                    ['site_id', sa.text('ref_count DESC'), 'id'],
                    sqlite_where=sa.text('ref_count > 0'),
                    postgresql_where=sa.text('ref_count > 0'))
    op.create_index('ix_subscribers_site_sharing', 'subscribers', ['site_id'],
                    sqlite_where=sa.text('ref_visits > 0 OR share_clicks > 0'),
                    postgresql_where=sa.text('ref_visits > 0 OR share_clicks > 0'))


def downgrade() -> None:
    op.drop_index('ix_subscribers_site_sharing', table_name='subscribers')
    op.drop_index('ix_subscribers_site_leaders', table_name='subscribers')
    op.drop_index('ix_outbox_webhook_created', table_name='outbox')
    op.drop_index('ix_outbox_site_status', table_name='outbox')
    op.drop_index('ix_gift_grants_gift_created', table_name='gift_grants')
