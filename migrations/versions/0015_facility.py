"""facility: the reporting facility's name, NAACCR identifiers and address (letters, reports, exports)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'facility',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('reporting_facility', sa.String(length=10), nullable=True),
        sa.Column('npi_reporting_facility', sa.String(length=10), nullable=True),
        sa.Column('archive_fin', sa.String(length=10), nullable=True),
        sa.Column('address_street', sa.String(length=120), nullable=True),
        sa.Column('address_city', sa.String(length=60), nullable=True),
        sa.Column('address_state', sa.String(length=2), nullable=True),
        sa.Column('address_postal_code', sa.String(length=10), nullable=True),
        sa.Column('telephone', sa.String(length=20), nullable=True),
        sa.Column('registry_contact', sa.String(length=120), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_facility')))


def downgrade() -> None:
    op.drop_table('facility')
