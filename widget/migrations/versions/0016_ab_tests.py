"""A/B tests: widget_tests (a widget's tests, running or ended) and widget_variants
(what each variant changes); the variant a subscriber signed up through.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'widget_tests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('widget_id', sa.String(64), sa.ForeignKey('widgets.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('min_shown', sa.Integer(), nullable=False),
        sa.Column('digit', sa.Integer(), nullable=False),
        sa.Column('started_at', TZ, nullable=False),
        sa.Column('ended_at', TZ, nullable=True),
        sa.Column('winner_id', sa.Integer(), nullable=True),
    )
    op.create_index('ix_widget_tests_site_id', 'widget_tests', ['site_id'])
    op.create_index('ix_widget_tests_widget', 'widget_tests', ['widget_id', 'started_at'])
    op.create_table(
        'widget_variants',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('test_id', sa.Integer(),
                  sa.ForeignKey('widget_tests.id', ondelete='CASCADE'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
    )
    op.create_index('ix_widget_variants_test_id', 'widget_variants', ['test_id'])
    # A plain number, as in stat_days: no reference, so that adding it on SQLite needs
    # no copy of the table (which would lose the search index's triggers).
    op.add_column('subscribers', sa.Column('variant_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('subscribers', 'variant_id')  # in place on SQLite 3.35+, as the add
    op.drop_table('widget_variants')
    op.drop_table('widget_tests')
