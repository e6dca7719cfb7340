"""abstracting: name keys for patient search, casefinding suspense, API tokens, edit status

Existing patients get their name keys here, computed by the same function the ORM hook uses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 02:31:30.790777
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('patient_name_key',
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('last_key', sa.String(length=4), nullable=False),
    sa.Column('last_name', sa.String(length=40), nullable=False),
    sa.Column('first_name', sa.String(length=40), nullable=False),
    sa.Column('birth_surname', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_name_key_patient_id_patient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('patient_id', name=op.f('pk_patient_name_key'))
    )
    with op.batch_alter_table('patient_name_key', schema=None) as batch_op:
        batch_op.create_index('ix_patient_name_key_last_key', ['last_key', 'first_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_name_key_last_name'), ['last_name'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_name_key_birth_surname'), ['birth_surname'], unique=False)
    _fill_name_keys()

    op.create_table('abstract_edit_status',
    sa.Column('tumor_id', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('failures', sa.JSON(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tumor_id'], ['tumor.id'], name=op.f('fk_abstract_edit_status_tumor_id_tumor'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tumor_id', name=op.f('pk_abstract_edit_status'))
    )
    with op.batch_alter_table('abstract_edit_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_abstract_edit_status_errors'), ['errors'], unique=False)

    op.create_table('suspense_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name_last', sa.String(length=40), nullable=True),
    sa.Column('name_first', sa.String(length=40), nullable=True),
    sa.Column('date_of_birth', sa.String(length=8), nullable=True),
    sa.Column('medical_record_number', sa.String(length=15), nullable=True),
    sa.Column('primary_site', sa.String(length=4), nullable=True),
    sa.Column('date_found', sa.String(length=8), nullable=True),
    sa.Column('source', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('open', 'abstracted', 'not_reportable', name='suspense_status', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('tumor_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_suspense_case_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_suspense_case_patient_id_patient'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user_account.id'], name=op.f('fk_suspense_case_resolved_by_id_user_account')),
    sa.ForeignKeyConstraint(['tumor_id'], ['tumor.id'], name=op.f('fk_suspense_case_tumor_id_tumor'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspense_case'))
    )
    with op.batch_alter_table('suspense_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspense_case_medical_record_number'), ['medical_record_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspense_case_status'), ['status'], unique=False)



def _fill_name_keys() -> None:
    from registry.models.abstracting import name_key_row
    patient = sa.table('patient', sa.column('id', sa.Integer), sa.column('name_last', sa.String),
                       sa.column('name_first', sa.String), sa.column('name_birth_surname', sa.String))
    keys = sa.table('patient_name_key', sa.column('patient_id', sa.Integer), sa.column('last_key', sa.String),
                    sa.column('last_name', sa.String), sa.column('first_name', sa.String),
                    sa.column('birth_surname', sa.String))
    connection = op.get_bind()
    result = connection.execute(sa.select(patient.c.id, patient.c.name_last, patient.c.name_first,
                                          patient.c.name_birth_surname).order_by(patient.c.id))
    while batch := result.fetchmany(5000):
        connection.execute(sa.insert(keys), [name_key_row(*row) for row in batch])


def downgrade() -> None:
    with op.batch_alter_table('suspense_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspense_case_status'))
        batch_op.drop_index(batch_op.f('ix_suspense_case_medical_record_number'))

    op.drop_table('suspense_case')
    with op.batch_alter_table('abstract_edit_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_abstract_edit_status_errors'))

    op.drop_table('abstract_edit_status')
    with op.batch_alter_table('patient_name_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_name_key_birth_surname'))
        batch_op.drop_index(batch_op.f('ix_patient_name_key_last_name'))
        batch_op.drop_index('ix_patient_name_key_last_key')

    op.drop_table('patient_name_key')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
