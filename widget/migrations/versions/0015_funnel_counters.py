"""the funnel's counters: stat_days (per widget, variant, day in the site's time zone,
all and again per page path, language and device class) replace widget_days, whose rows
move over as they are (their UTC days, impressions, opens, closes, submits); a site's
time zone.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COUNTERS = ('shown', 'opened', 'closed', 'signed_up', 'confirmed', 'downloaded', 'referred',
            'stories')


def upgrade() -> None:
    with op.batch_alter_table('sites') as batch:
        batch.add_column(sa.Column('time_zone', sa.String(64), nullable=False,
                                   server_default='UTC'))
    op.create_table(
        'stat_days',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('widget_id', sa.String(64), sa.ForeignKey('widgets.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('variant', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('dim', sa.String(8), nullable=False),
        sa.Column('key', sa.String(200), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.UniqueConstraint('widget_id', 'variant', 'dim', 'key', 'day', name='uq_stat_days'),
    )
    op.create_index('ix_stat_days_site', 'stat_days', ['site_id', 'dim', 'day'])
    op.execute(
        "INSERT INTO stat_days (site_id, widget_id, variant, day, dim, key, shown, opened, "
        "closed, signed_up, confirmed, downloaded, referred, stories) "
        "SELECT w.site_id, d.widget_id, 0, d.day, 'all', '', d.impressions, d.opens, "
        "d.closes, d.submits, 0, 0, 0, 0 FROM widget_days d JOIN widgets w ON w.id = d.widget_id")
    op.drop_table('widget_days')


def downgrade() -> None:
    op.create_table(
        'widget_days',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('widget_id', sa.String(64), sa.ForeignKey('widgets.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('impressions', sa.Integer(), nullable=False),
        sa.Column('opens', sa.Integer(), nullable=False),
        sa.Column('closes', sa.Integer(), nullable=False),
        sa.Column('submits', sa.Integer(), nullable=False),
        sa.UniqueConstraint('widget_id', 'day'),
    )
    op.execute(
        "INSERT INTO widget_days (widget_id, day, impressions, opens, closes, submits) "
        "SELECT widget_id, day, sum(shown), sum(opened), sum(closed), sum(signed_up) "
        "FROM stat_days WHERE dim = 'all' GROUP BY widget_id, day")
    op.drop_table('stat_days')
    with op.batch_alter_table('sites') as batch:
        batch.drop_column('time_zone')
