"""research releases: data use agreements, the release log and the study-id key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 03:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_use_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('project', sa.String(length=200), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_data_use_agreement_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_use_agreement'))
    )
    with op.batch_alter_table('data_use_agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_use_agreement_user_id'), ['user_id'], unique=False)

    op.create_table('research_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('variables', sa.JSON(), nullable=False),
    sa.Column('file_format', sa.String(length=10), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('patient_count', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('file_path', sa.String(length=500), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['data_use_agreement.id'], name=op.f('fk_research_release_agreement_id_data_use_agreement')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_research_release_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_research_release'))
    )
    with op.batch_alter_table('research_release', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_research_release_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_research_release_expires_at'), ['expires_at'], unique=False)

    op.create_table('research_study_key',
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('tumor_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('study_patient_id', sa.String(length=12), nullable=False),
    sa.Column('study_tumor_id', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['research_release.id'], name=op.f('fk_research_study_key_release_id_research_release'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('release_id', 'tumor_id', name=op.f('pk_research_study_key'))
    )


def downgrade() -> None:
    op.drop_table('research_study_key')
    with op.batch_alter_table('research_release', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_research_release_expires_at'))
        batch_op.drop_index(batch_op.f('ix_research_release_created_at'))

    op.drop_table('research_release')
    with op.batch_alter_table('data_use_agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_use_agreement_user_id'))

    op.drop_table('data_use_agreement')
