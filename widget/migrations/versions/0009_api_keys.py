"""owners' API keys: per site, read or write scope, stored as a SHA-256 hash.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('last_used_at', TZ, nullable=True),
        sa.Column('revoked_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'))
    op.create_index('ix_api_keys_site_id', 'api_keys', ['site_id'])


def downgrade() -> None:
    op.drop_index('ix_api_keys_site_id', table_name='api_keys')
    op.drop_table('api_keys')
