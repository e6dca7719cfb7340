"""item stores: patient and tumor items without a column become JSONB with GIN indexes on PostgreSQL

The full NAACCR data set (registry/catalogue.py) keeps every catalogued item that has no typed column in
``extra_items`` (site-specific data items in ``site_specific_items``), keyed by naaccrId. On PostgreSQL the
columns move from json to jsonb, so any item can be filtered (``extra_items->>'tumorSizeSummary'``) and
searched by containment through a GIN index; SQLite keeps JSON text and filters with json_extract.
What the columns held is converted in place: the keys are already naaccrIds.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:40:00
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

STORES = (("patient", "extra_items"), ("tumor", "extra_items"), ("tumor", "site_specific_items"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in STORES:
        op.alter_column(table, column, type_=postgresql.JSONB(), existing_nullable=False,
                        postgresql_using=f"{column}::jsonb")
        op.create_index(f"ix_{table}_{column}", table, [column], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in STORES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.alter_column(table, column, type_=sa.JSON(), existing_nullable=False, postgresql_using=f"{column}::json")
