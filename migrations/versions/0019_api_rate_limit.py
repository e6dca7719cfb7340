"""api_token: the API rate limit's window and count, kept in the row when there is no Redis

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 02:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rate_window', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('rate_count', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('rate_count')
        batch_op.drop_column('rate_window')
