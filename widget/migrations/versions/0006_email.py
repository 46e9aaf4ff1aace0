"""e-mail: double opt-in and senders per site, subscriber status history, the outbox,
owners' e-mail copy; earlier sign-ups become 'confirmed'

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('double_opt_in', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('confirm_days', sa.Integer(), nullable=False,
                                      server_default='7'))
        batch_op.add_column(sa.Column('sender_name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('sender_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_at', TZ, nullable=True))
        batch_op.add_column(sa.Column('confirm_sent_at', TZ, nullable=True))
    # Sign-ups taken before e-mail existed were single opt-in: they stay on the list.
    op.execute("UPDATE subscribers SET status = 'confirmed' WHERE status = 'subscribed'")
    op.execute("UPDATE subscribers SET status_at = created_at")
    for table, columns in (('sites', ('double_opt_in', 'confirm_days')),
                           ('subscribers', ('status_at',))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None, nullable=False)

    op.create_table(
        'status_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('via', sa.String(length=32), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_status_changes_subscriber_id', 'status_changes', ['subscriber_id'])
    op.execute("INSERT INTO status_changes (subscriber_id, status, via, created_at) "
               "SELECT id, status, 'signup', created_at FROM subscribers")

    op.create_table(
        'outbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('mailbox', sa.String(length=254), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', TZ, nullable=False),
        sa.Column('lease_until', TZ, nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('message_id', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=True),
        sa.Column('raw', sa.Text(), nullable=True),
        sa.Column('transport', sa.String(length=8), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('sent_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_outbox_due', 'outbox', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_mailbox_created', 'outbox', ['mailbox', 'created_at'])
    op.create_index('ix_outbox_site_created', 'outbox', ['site_id', 'created_at'])

    op.create_table(
        'mail_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('updated_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('site_id', 'kind', 'lang'))


def downgrade() -> None:
    op.drop_table('mail_templates')
    op.drop_index('ix_outbox_site_created', table_name='outbox')
    op.drop_index('ix_outbox_mailbox_created', table_name='outbox')
    op.drop_index('ix_outbox_due', table_name='outbox')
    op.drop_table('outbox')
    op.drop_index('ix_status_changes_subscriber_id', table_name='status_changes')
    op.drop_table('status_changes')
    op.execute("UPDATE subscribers SET status = 'subscribed' WHERE status = 'confirmed'")
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('confirm_sent_at')
        batch_op.drop_column('status_at')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for column in ('reply_to', 'sender_email', 'sender_name', 'confirm_days',
                       'double_opt_in'):
            batch_op.drop_column(column)
