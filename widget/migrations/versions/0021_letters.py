"""letter_plans and letters: when a site's letters of new posts go, and each letter; the
feed items a letter carries; outbox rows of a letter, one a reader (a unique key). The
mode moves from each feed to the site's plan.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
LETTER_ROWS = sa.text("letter_id IS NOT NULL")
UNTAKEN = sa.text("queued_at IS NULL")


def upgrade() -> None:
    op.create_table(
        'letter_plans',
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('days', sa.String(7), nullable=False),
        sa.Column('at', sa.String(5), nullable=False),
        sa.Column('review', sa.Boolean(), nullable=False),
        sa.Column('per_hour', sa.Integer(), nullable=False),
        sa.Column('updated_at', TZ, nullable=False),
    )
    # A site's feeds had a mode each; the plan takes the site's (digest if any said so).
    op.execute("""
        INSERT INTO letter_plans (site_id, mode, days, at, review, per_hour, updated_at)
        SELECT site_id, max(mode), '4', '09:00', false, 0, max(created_at)
        FROM feeds GROUP BY site_id""")
    op.drop_column('feeds', 'mode')  # in place on SQLite 3.35+
    op.create_table(
        'letters',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('feed_id', sa.Integer(), sa.ForeignKey('feeds.id', ondelete='SET NULL'),
                  nullable=True),
        sa.Column('lang', sa.String(8), nullable=False),
        sa.Column('mode', sa.String(8), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('due_at', TZ, nullable=False),
        sa.Column('started_at', TZ, nullable=True),
        sa.Column('finished_at', TZ, nullable=True),
        sa.Column('cursor', sa.Integer(), nullable=False),
        sa.Column('queued', sa.Integer(), nullable=False),
        sa.Column('all_queued', sa.Boolean(), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
    )
    op.create_index('ix_letters_status_due', 'letters', ['status', 'due_at'])
    op.create_index('ix_letters_site_created', 'letters', ['site_id', 'created_at'])
    with op.batch_alter_table('feed_items') as batch:  # a reference: SQLite copies it
        batch.add_column(sa.Column('letter_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_feed_items_letter_id', 'letters', ['letter_id'], ['id'],
                                 ondelete='SET NULL')
    # Old posts were never to be mailed: done with, as a first poll now marks them.
    op.execute("UPDATE feed_items SET queued_at = seen_at WHERE at_first_poll = true")
    op.create_index('ix_feed_items_untaken', 'feed_items', ['feed_id'],
                    sqlite_where=UNTAKEN, postgresql_where=UNTAKEN)
    op.add_column('outbox', sa.Column('letter_id', sa.Integer(), nullable=True))
    op.create_index('ux_outbox_letter_subscriber', 'outbox', ['letter_id', 'subscriber_id'],
                    unique=True, sqlite_where=LETTER_ROWS, postgresql_where=LETTER_ROWS)


def downgrade() -> None:
    op.drop_index('ux_outbox_letter_subscriber', 'outbox')
    op.drop_column('outbox', 'letter_id')
    op.drop_index('ix_feed_items_untaken', 'feed_items')
    with op.batch_alter_table('feed_items') as batch:
        batch.drop_constraint('fk_feed_items_letter_id', type_='foreignkey')
        batch.drop_column('letter_id')
    op.drop_table('letters')
    op.add_column('feeds', sa.Column('mode', sa.String(8), nullable=False,
                                     server_default='each'))
    op.drop_table('letter_plans')
