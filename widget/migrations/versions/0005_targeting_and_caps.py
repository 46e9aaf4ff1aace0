"""targeting and "no thanks" text per widget; pop-up cap and sign-up reset per site

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('url_include', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('url_exclude', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('device', sa.String(length=8), nullable=False,
                                      server_default='any'))
        batch_op.add_column(sa.Column('visitor', sa.String(length=10), nullable=False,
                                      server_default='any'))
        batch_op.add_column(sa.Column('referrer', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('utm_source', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('page_langs', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('no_thanks_label', sa.String(length=80), nullable=True))
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('popup_cap', sa.Integer(), nullable=False,
                                      server_default='1'))
        batch_op.add_column(sa.Column('reset_count', sa.Integer(), nullable=False,
                                      server_default='0'))
    for table, columns in (('widgets', ('device', 'visitor')),
                           ('sites', ('popup_cap', 'reset_count'))):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('reset_count')
        batch_op.drop_column('popup_cap')
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        for name in ('no_thanks_label', 'page_langs', 'utm_source', 'referrer', 'visitor', 'device',
                     'url_exclude', 'url_include'):
            batch_op.drop_column(name)
