"""events, webhooks and connectors; the outbox carries their deliveries, and is indexed
on the rows it points at (erasure finds a contact's rows without a scan).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=40), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('public_id'))
    op.create_index('ix_events_site_created', 'events', ['site_id', 'created_at'])
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', sa.Text(), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=True),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_webhooks_site_id', 'webhooks', ['site_id'])
    op.create_table(
        'connectors',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('service', sa.String(length=16), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('settings', sa.JSON(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_ok_at', TZ, nullable=True),
        sa.Column('backfill_total', sa.Integer(), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('site_id', 'service'))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('webhook_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('connector_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('response_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('response', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_outbox_event_id_events', 'events', ['event_id'],
                                    ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_outbox_webhook_id_webhooks', 'webhooks',
                                    ['webhook_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key('fk_outbox_connector_id_connectors', 'connectors',
                                    ['connector_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_outbox_webhook_contact', ['webhook_id', 'contact_id', 'id'])
        batch_op.create_index('ix_outbox_connector_contact',
                              ['connector_id', 'contact_id', 'id'])
        # Without these, erasing one contact scans the whole outbox to clear its links.
        for column in ('subscriber_id', 'story_id', 'referral_id', 'grant_id'):
            batch_op.create_index(f'ix_outbox_{column.removesuffix("_id")}', [column])


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        for name in ('grant', 'referral', 'story', 'subscriber'):
            batch_op.drop_index(f'ix_outbox_{name}')
        batch_op.drop_index('ix_outbox_connector_contact')
        batch_op.drop_index('ix_outbox_webhook_contact')
        batch_op.drop_constraint('fk_outbox_connector_id_connectors', type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_webhook_id_webhooks', type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_event_id_events', type_='foreignkey')
        for column in ('response', 'response_status', 'contact_id', 'connector_id',
                       'webhook_id', 'event_id'):
            batch_op.drop_column(column)
    op.drop_table('connectors')
    op.drop_index('ix_webhooks_site_id', table_name='webhooks')
    op.drop_table('webhooks')
    op.drop_index('ix_events_site_created', table_name='events')
    op.drop_table('events')
