"""drop the whole-document GIN indexes of the JSONB item stores (PostgreSQL)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 07:45:00

Migration 0010 indexed ``patient.extra_items``, ``tumor.extra_items`` and ``tumor.site_specific_items``
with GIN. No query of the product can use them: item filters (survival cohorts, research exports, the
annual report's facility) compare ``extra_items ->> 'naaccrId'`` values, which a GIN index does not serve
(it serves ``@>``, ``?`` and jsonpath), while keeping them up to date was a quarter of the time of a
PostgreSQL import (bench/bench_naaccr_db.py, docs/benchmarks.md). An item filtered often gets an
expression index of its own (docs/architecture.md).
"""
from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

INDEXES = (("patient", "extra_items"), ("tumor", "extra_items"), ("tumor", "site_specific_items"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in INDEXES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], postgresql_using="gin")
