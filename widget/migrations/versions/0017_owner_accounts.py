"""owner accounts: a log-in version (a password change or reset ends every other
session), two-step log-in (a sealed TOTP secret, the last step used, recovery codes'
hashes), and e-mails to an owner about their account (a password reset) in the outbox:
outbox.owner_id, and site_id optional for them.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('owners') as batch:
        batch.add_column(sa.Column('login_version', sa.Integer(), nullable=False,
                                   server_default='0'))
        batch.add_column(sa.Column('totp_secret', sa.Text(), nullable=True))
        batch.add_column(sa.Column('totp_last', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('recovery_codes', sa.JSON(), nullable=True))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_outbox_owner_id', 'owners', ['owner_id'], ['id'],
                                 ondelete='CASCADE')
        batch.alter_column('site_id', existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE site_id IS NULL")
    with op.batch_alter_table('outbox') as batch:
        batch.alter_column('site_id', existing_type=sa.String(64), nullable=False)
        batch.drop_constraint('fk_outbox_owner_id', type_='foreignkey')
        batch.drop_column('owner_id')
    with op.batch_alter_table('owners') as batch:
        for name in ('recovery_codes', 'totp_last', 'totp_secret', 'login_version'):
            batch.drop_column(name)
