"""feeds and feed_items: a site's blog feeds (one a language) polled by the worker, and
the entries found in them (those of the first poll kept as seen, never mailed).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feeds',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('lang', sa.String(8), nullable=False),
        sa.Column('url', sa.String(2048), nullable=False),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('etag', sa.String(512), nullable=True),
        sa.Column('last_modified', sa.String(64), nullable=True),
        sa.Column('primed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_poll_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('error_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('site_id', 'lang'),
    )
    op.create_index('ix_feeds_next_poll_at', 'feeds', ['next_poll_at'])
    op.create_table(
        'feed_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('feed_id', sa.Integer(), sa.ForeignKey('feeds.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('key', sa.String(64), nullable=False),
        sa.Column('title', sa.String(500), nullable=False),
        sa.Column('link', sa.String(2048), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('at_first_poll', sa.Boolean(), nullable=False),
        sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('feed_id', 'key'),
    )
    op.create_index('ix_feed_items_feed_queued', 'feed_items',
                    ['feed_id', 'queued_at', 'seen_at'])


def downgrade() -> None:
    op.drop_table('feed_items')
    op.drop_table('feeds')
