"""Sequence Number--Central [380] as a tumor column (proposed by the registry's sequence rules)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sequence_number_central', sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.drop_column('sequence_number_central')
