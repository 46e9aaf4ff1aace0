"""stat_months: a site's page, language and device counters summed per whole month, and
stat_months_done, the months summed, so views of long ranges read months, not days.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

COUNTERS = ('shown', 'opened', 'closed', 'signed_up', 'confirmed', 'downloaded', 'referred',
            'stories')


def upgrade() -> None:
    # Nothing to fill: months are summed when a view first asks for them.
    op.create_table(
        'stat_months',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('dim', sa.String(8), nullable=False),
        sa.Column('key', sa.String(200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.UniqueConstraint('site_id', 'dim', 'month', 'key', name='uq_stat_months'),
    )
    op.create_table(
        'stat_months_done',
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('month', sa.Date(), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table('stat_months_done')
    op.drop_table('stat_months')
