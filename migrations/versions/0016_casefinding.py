"""casefinding: electronic pathology reports and FHIR bundles kept with their suspense case

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 18:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'casefinding_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('suspense_case_id', sa.Integer(), nullable=False),
        sa.Column('format', sa.String(length=10), nullable=False),
        sa.Column('received_from', sa.String(length=200), nullable=False),
        sa.Column('message_id', sa.String(length=100), nullable=True),
        sa.Column('accession', sa.String(length=100), nullable=True),
        sa.Column('report_status', sa.String(length=1), nullable=False),
        sa.Column('superseded_by_id', sa.Integer(), nullable=True),
        sa.Column('document', sa.Text(), nullable=False),
        sa.Column('report_text', sa.Text(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('screening', sa.JSON(), nullable=False),
        sa.Column('reportable', sa.Boolean(), nullable=False),
        sa.Column('suggestions', sa.JSON(), nullable=False),
        sa.Column('match', sa.JSON(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('group_key', sa.String(length=120), nullable=False),
        sa.Column('received_by_id', sa.Integer(), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['suspense_case_id'], ['suspense_case.id'],
                                name=op.f('fk_casefinding_report_suspense_case_id_suspense_case'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['superseded_by_id'], ['casefinding_report.id'],
                                name=op.f('fk_casefinding_report_superseded_by_id_casefinding_report'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_casefinding_report_patient_id_patient'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['received_by_id'], ['user_account.id'],
                                name=op.f('fk_casefinding_report_received_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_casefinding_report')),
    )
    op.create_index(op.f('ix_casefinding_report_suspense_case_id'), 'casefinding_report', ['suspense_case_id'])
    op.create_index(op.f('ix_casefinding_report_accession'), 'casefinding_report', ['accession'])
    op.create_index(op.f('ix_casefinding_report_reportable'), 'casefinding_report', ['reportable'])
    op.create_index(op.f('ix_casefinding_report_patient_id'), 'casefinding_report', ['patient_id'])
    op.create_index(op.f('ix_casefinding_report_group_key'), 'casefinding_report', ['group_key'])


def downgrade() -> None:
    op.drop_table('casefinding_report')
