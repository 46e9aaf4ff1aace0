"""an owner's dashboard language and time zone: owners.lang (en, nb, de or nl; None
follows the browser) and owners.time_zone (an IANA name; existing rows get UTC).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('owners') as batch:
        batch.add_column(sa.Column('lang', sa.String(8), nullable=True))
        batch.add_column(sa.Column('time_zone', sa.String(64), nullable=False,
                                   server_default='UTC'))


def downgrade() -> None:
    with op.batch_alter_table('owners') as batch:
        batch.drop_column('time_zone')
        batch.drop_column('lang')
