"""NAACCR submissions and the tumors each one carried

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('stored_path', sa.String(length=500), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('naaccr_version', sa.String(length=3), nullable=False),
    sa.Column('record_type', sa.String(length=1), nullable=False),
    sa.Column('diagnosis_year', sa.Integer(), nullable=True),
    sa.Column('patient_count', sa.Integer(), nullable=False),
    sa.Column('tumor_count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_submission_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission'))
    )
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_created_at'), ['created_at'], unique=False)

    op.create_table('submission_tumor',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('tumor_id', sa.Integer(), nullable=False),
    sa.Column('tumor_version', sa.Integer(), nullable=False),
    sa.Column('patient_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_submission_tumor_submission_id_submission'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tumor_id'], ['tumor.id'], name=op.f('fk_submission_tumor_tumor_id_tumor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('submission_id', 'tumor_id', name=op.f('pk_submission_tumor'))
    )
    with op.batch_alter_table('submission_tumor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_tumor_tumor_id'), ['tumor_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_tumor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_tumor_tumor_id'))
    op.drop_table('submission_tumor')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_created_at'))
    op.drop_table('submission')
