"""indexes for the screens opened every day: work queues by workflow state and last change, follow-ups due

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 03:10:00

The work queues list abstracts of one workflow state ordered by when they last changed or were diagnosed
(without the second index PostgreSQL walks every tumor in diagnosis order looking for the few in progress);
the follow-ups due are living patients whose Date of Last Contact [1750] falls in a range. At 100,000
patients these read whole tables without the indexes (bench/bench_pages.py, docs/benchmarks.md).
"""
from alembic import op


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.create_index('ix_tumor_workflow_updated', ['workflow_state', 'updated_at'])
        batch_op.create_index('ix_tumor_workflow_dx', ['workflow_state', 'date_of_diagnosis'])
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index('ix_patient_follow_up', ['vital_status', 'date_of_last_contact'])


def downgrade() -> None:
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_follow_up')
    with op.batch_alter_table('tumor', schema=None) as batch_op:
        batch_op.drop_index('ix_tumor_workflow_dx')
        batch_op.drop_index('ix_tumor_workflow_updated')
