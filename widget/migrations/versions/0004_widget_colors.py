"""owner colours per widget

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        for name in ('color_bg', 'color_fg', 'color_accent'):
            batch_op.add_column(sa.Column(name, sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        for name in ('color_bg', 'color_fg', 'color_accent'):
            batch_op.drop_column(name)
