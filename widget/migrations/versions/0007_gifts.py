"""gifts: files (stored in chunks), links, coupon codes and bonus texts; gift widgets;
the gift ledger (grants) and the grant an e-mail is about

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'gift_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_gift_files_site_id', 'gift_files', ['site_id'])
    op.create_table(
        'gift_file_chunks',
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['gift_files.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('file_id', 'seq'))
    op.create_table(
        'gifts',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('file_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2048), nullable=True),
        sa.Column('bonus_html', sa.Text(), nullable=True),
        sa.Column('quantity', sa.Integer(), nullable=True),
        sa.Column('given_count', sa.Integer(), nullable=False),
        sa.Column('show_left', sa.Boolean(), nullable=False),
        sa.Column('link_days', sa.Integer(), nullable=False),
        sa.Column('download_limit', sa.Integer(), nullable=False),
        sa.Column('followup_days', sa.Integer(), nullable=True),
        sa.Column('is_active', sa.Boolean(), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('updated_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['gift_files.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_gifts_site_id', 'gifts', ['site_id'])
    op.create_table(
        'gift_grants',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('gift_id', sa.String(length=64), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=True),
        sa.Column('widget_id', sa.String(length=64), nullable=True),
        sa.Column('page_url', sa.String(length=2048), nullable=True),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('released_at', TZ, nullable=True),
        sa.Column('expires_at', TZ, nullable=True),
        sa.Column('valid_days', sa.Integer(), nullable=False),
        sa.Column('download_limit', sa.Integer(), nullable=False),
        sa.Column('downloads', sa.Integer(), nullable=False),
        sa.Column('last_download_at', TZ, nullable=True),
        sa.Column('last_ticket', sa.String(length=32), nullable=True),
        sa.Column('revoked_at', TZ, nullable=True),
        sa.Column('mailed_at', TZ, nullable=True),
        sa.Column('followup_at', TZ, nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('rated_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['gift_id'], ['gifts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['widget_id'], ['widgets.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('gift_id', 'subscriber_id'))
    op.create_index('ix_gift_grants_site_created', 'gift_grants', ['site_id', 'created_at'])
    op.create_index('ix_gift_grants_subscriber', 'gift_grants', ['subscriber_id'])
    op.create_table(
        'gift_coupons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('gift_id', sa.String(length=64), nullable=False),
        sa.Column('code', sa.String(length=100), nullable=False),
        sa.Column('grant_id', sa.Integer(), nullable=True),
        sa.Column('given_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['gift_id'], ['gifts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['grant_id'], ['gift_grants.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('gift_id', 'code'),
        sa.UniqueConstraint('grant_id'))
    op.create_index('ix_gift_coupons_free', 'gift_coupons', ['gift_id', 'given_at'])
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gift_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('gift_mode', sa.String(length=8), nullable=False,
                                      server_default='first'))
        batch_op.create_foreign_key('fk_widgets_gift_id', 'gifts', ['gift_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.alter_column('gift_mode', server_default=None)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grant_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_outbox_grant_id', 'gift_grants', ['grant_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_grant_id', type_='foreignkey')
        batch_op.drop_column('grant_id')
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_widgets_gift_id', type_='foreignkey')
        batch_op.drop_column('gift_mode')
        batch_op.drop_column('gift_id')
    op.drop_index('ix_gift_coupons_free', table_name='gift_coupons')
    op.drop_table('gift_coupons')
    op.drop_index('ix_gift_grants_subscriber', table_name='gift_grants')
    op.drop_index('ix_gift_grants_site_created', table_name='gift_grants')
    op.drop_table('gift_grants')
    op.drop_index('ix_gifts_site_id', table_name='gifts')
    op.drop_table('gifts')
    op.drop_table('gift_file_chunks')
    op.drop_index('ix_gift_files_site_id', table_name='gift_files')
    op.drop_table('gift_files')
