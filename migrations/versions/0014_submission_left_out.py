"""submissions: what a submission left out and why, and whether it was a test file with incomplete abstracts

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('include_incomplete', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('left_out_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'submission_left_out',
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('tumor_id', sa.Integer(), nullable=False),
        sa.Column('patient_id_number', sa.String(length=8), nullable=False),
        sa.Column('primary_site', sa.String(length=4), nullable=True),
        sa.Column('date_of_diagnosis', sa.String(length=8), nullable=True),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_submission_left_out_submission_id_submission'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tumor_id'], ['tumor.id'], name=op.f('fk_submission_left_out_tumor_id_tumor'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('submission_id', 'tumor_id', name=op.f('pk_submission_left_out')))
    with op.batch_alter_table('submission_left_out', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_left_out_tumor_id'), ['tumor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_left_out', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_left_out_tumor_id'))
    op.drop_table('submission_left_out')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('left_out_count')
        batch_op.drop_column('include_incomplete')
