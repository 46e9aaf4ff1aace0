"""site_members: people invited to share a site, with a role (viewer, editor, owner).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'site_members',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('site_id', sa.String(64), sa.ForeignKey('sites.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('email', sa.String(254), nullable=False),
        sa.Column('owner_id', sa.Integer(), sa.ForeignKey('owners.id', ondelete='CASCADE'),
                  nullable=True),
        sa.Column('role', sa.String(8), nullable=False),
        sa.Column('invited_by', sa.Integer(),
                  sa.ForeignKey('owners.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint('site_id', 'email'),
    )
    op.create_index('ix_site_members_owner_id', 'site_members', ['owner_id'])


def downgrade() -> None:
    op.drop_table('site_members')
