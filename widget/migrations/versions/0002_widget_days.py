"""daily widget counters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'widget_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('widget_id', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('impressions', sa.Integer(), nullable=False),
        sa.Column('opens', sa.Integer(), nullable=False),
        sa.Column('closes', sa.Integer(), nullable=False),
        sa.Column('submits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['widget_id'], ['widgets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('widget_id', 'day'),
    )


def downgrade() -> None:
    op.drop_table('widget_days')
