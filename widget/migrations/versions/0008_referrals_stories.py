"""give back: referral codes and counters per subscriber, referrals, milestones and their
rewards, stories; referral, social-proof and story settings per site; a proof widget's
style; the story or referral an outbox row is about. Confirmed subscribers get their referral codes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
CODE_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # as widget/referrals.py makes them


def upgrade() -> None:
    op.create_table(
        'referrals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('referrer_id', sa.Integer(), nullable=False),
        sa.Column('referred_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('ip_range', sa.String(length=64), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('confirmed_at', TZ, nullable=True),
        sa.Column('decided_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['referrer_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['referred_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('referred_id'))
    op.create_index('ix_referrals_referrer', 'referrals', ['referrer_id', 'status'])
    op.create_index('ix_referrals_site_status', 'referrals', ['site_id', 'status', 'created_at'])
    op.create_table(
        'milestones',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('friends', sa.Integer(), nullable=False),
        sa.Column('gift_id', sa.String(length=64), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['gift_id'], ['gifts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('site_id', 'friends'))
    op.create_table(
        'milestone_rewards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('milestone_id', sa.Integer(), nullable=True),
        sa.Column('friends', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('grant_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['grant_id'], ['gift_grants.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('milestone_id', 'subscriber_id'))
    op.create_index('ix_milestone_rewards_subscriber_id', 'milestone_rewards', ['subscriber_id'])
    op.create_table(
        'stories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('widget_id', sa.String(length=64), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('consent_publish', sa.Boolean(), nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('page_url', sa.String(length=2048), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reply', sa.Text(), nullable=True),
        sa.Column('grant_id', sa.Integer(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('decided_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['widget_id'], ['widgets.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['grant_id'], ['gift_grants.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_stories_site_status', 'stories', ['site_id', 'status', 'created_at'])

    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ref_code', sa.String(length=32), nullable=True))
        for column in ('ref_count', 'ref_visits', 'share_clicks'):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False,
                                          server_default='0'))
        batch_op.create_unique_constraint('uq_subscribers_ref_code', ['ref_code'])
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        for column in ('ref_count', 'ref_visits', 'share_clicks'):
            batch_op.alter_column(column, server_default=None)
    # Everyone already on a list gets a code, as a confirmation gives one now.
    conn = op.get_bind()
    ids = conn.execute(sa.text("SELECT id FROM subscribers WHERE status = 'confirmed'"))
    for (subscriber_id,) in ids.fetchall():
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
        conn.execute(sa.text("UPDATE subscribers SET ref_code = :code WHERE id = :id"),
                     {"code": code, "id": subscriber_id})

    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_wait_days', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('referral_burst', sa.Integer(), nullable=False,
                                      server_default='3'))
        batch_op.add_column(sa.Column('hold_disposable', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('disposable_domains', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('ref_landing', sa.String(length=2048), nullable=True))
        batch_op.add_column(sa.Column('count_threshold', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('story_gift_id', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key('fk_sites_story_gift_id', 'gifts', ['story_gift_id'],
                                    ['id'], ondelete='SET NULL', use_alter=True)
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for column in ('referral_wait_days', 'referral_burst', 'hold_disposable'):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('style', sa.String(length=16), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referral_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_outbox_story_id', 'stories', ['story_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_foreign_key('fk_outbox_referral_id', 'referrals', ['referral_id'],
                                    ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.drop_column('style')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_referral_id', type_='foreignkey')
        batch_op.drop_constraint('fk_outbox_story_id', type_='foreignkey')
        batch_op.drop_column('body')
        batch_op.drop_column('referral_id')
        batch_op.drop_column('story_id')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_constraint('fk_sites_story_gift_id', type_='foreignkey')
        for column in ('story_gift_id', 'count_threshold', 'ref_landing', 'disposable_domains',
                       'hold_disposable', 'referral_burst', 'referral_wait_days'):
            batch_op.drop_column(column)
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_constraint('uq_subscribers_ref_code', type_='unique')
        for column in ('share_clicks', 'ref_visits', 'ref_count', 'ref_code'):
            batch_op.drop_column(column)
    op.drop_index('ix_stories_site_status', table_name='stories')
    op.drop_table('stories')
    op.drop_index('ix_milestone_rewards_subscriber_id', table_name='milestone_rewards')
    op.drop_table('milestone_rewards')
    op.drop_table('milestones')
    op.drop_index('ix_referrals_site_status', table_name='referrals')
    op.drop_index('ix_referrals_referrer', table_name='referrals')
    op.drop_table('referrals')
