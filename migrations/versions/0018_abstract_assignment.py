"""tumor: the registrar an abstract is assigned to (work queues)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tumor_assigned_to_id_user_account'), 'user_account',
                                    ['assigned_to_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_tumor_assigned_to_id'), ['assigned_to_id'])


def downgrade() -> None:
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tumor_assigned_to_id'))
        batch_op.drop_constraint(batch_op.f('fk_tumor_assigned_to_id_user_account'), type_='foreignkey')
        batch_op.drop_column('assigned_to_id')
