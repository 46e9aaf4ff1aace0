"""contacts the owner manages: tags, the basis of a consent, widget tags, unconfirmed
sign-ups' lifetime, imports (with their file in chunks) and the audit log.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'contact_tags',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('tag', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscriber_id', 'tag'))
    op.create_index('ix_contact_tags_site_tag', 'contact_tags',
                    ['site_id', 'tag', 'subscriber_id'])
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_audit_log_site_created', 'audit_log', ['site_id', 'created_at'])
    op.create_table(
        'contact_imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('site_id', sa.String(length=64), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('mapping', sa.JSON(), nullable=True),
        sa.Column('basis', sa.Text(), nullable=True),
        sa.Column('tags', sa.String(length=300), nullable=True),
        sa.Column('pace', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('new', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('invalid', sa.Integer(), nullable=False),
        sa.Column('problems', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('lease_until', TZ, nullable=True),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('created_at', TZ, nullable=False),
        sa.Column('started_at', TZ, nullable=True),
        sa.Column('finished_at', TZ, nullable=True),
        sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_contact_imports_site_created', 'contact_imports',
                    ['site_id', 'created_at'])
    op.create_table(
        'contact_import_chunks',
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['contact_imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('import_id', 'seq'))
    with op.batch_alter_table('consents') as batch_op:
        batch_op.add_column(sa.Column('basis', sa.String(length=16), nullable=False,
                                      server_default='signup'))
    with op.batch_alter_table('consents') as batch_op:
        batch_op.alter_column('basis', server_default=None)
    with op.batch_alter_table('sites') as batch_op:
        batch_op.add_column(sa.Column('unconfirmed_days', sa.Integer(), nullable=False,
                                      server_default='30'))
    with op.batch_alter_table('sites') as batch_op:
        batch_op.alter_column('unconfirmed_days', server_default=None)
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.add_column(sa.Column('tags', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('widgets') as batch_op:
        batch_op.drop_column('tags')
    with op.batch_alter_table('sites') as batch_op:
        batch_op.drop_column('unconfirmed_days')
    with op.batch_alter_table('consents') as batch_op:
        batch_op.drop_column('basis')
    op.drop_table('contact_import_chunks')
    op.drop_index('ix_contact_imports_site_created', table_name='contact_imports')
    op.drop_table('contact_imports')
    op.drop_index('ix_audit_log_site_created', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_contact_tags_site_tag', table_name='contact_tags')
    op.drop_table('contact_tags')
