"""several triggers per widget, combined with any/all

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

widgets = sa.table('widgets', sa.column('id', sa.String), sa.column('trigger', sa.String),
                   sa.column('triggers', sa.JSON))


def upgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triggers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('trigger_match', sa.String(length=3), nullable=False,
                                      server_default='any'))
    conn = op.get_bind()
    for widget_id, trigger in conn.execute(sa.select(widgets.c.id, widgets.c.trigger)).all():
        conn.execute(widgets.update().where(widgets.c.id == widget_id)
                     .values(triggers=[[trigger, None]]))
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.alter_column('triggers', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('trigger_match', server_default=None)
        batch_op.drop_column('trigger')


def downgrade() -> None:
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger', sa.String(length=32), nullable=True))
    conn = op.get_bind()
    old = sa.table('widgets', sa.column('id', sa.String), sa.column('triggers', sa.JSON),
                   sa.column('trigger', sa.String))
    for widget_id, triggers in conn.execute(sa.select(old.c.id, old.c.triggers)).all():
        first = (triggers or [["exit_intent", None]])[0][0]
        conn.execute(old.update().where(old.c.id == widget_id).values(trigger=first))
    with op.batch_alter_table('widgets', schema=None) as batch_op:
        batch_op.alter_column('trigger', existing_type=sa.String(length=32), nullable=False)
        batch_op.drop_column('triggers')
        batch_op.drop_column('trigger_match')
