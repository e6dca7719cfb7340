"""Shared fixtures: a small demo registry (its survival months come from the bulk recompute); the
SSA life tables it is measured against are among the official tables every test database has."""
import pytest

from registry.audit import SYSTEM, operation


@pytest.fixture
def demo(app):
    from registry.demo import load_demo_data
    with operation(SYSTEM, "demo_data") as session:
        counts = load_demo_data(session, 300, seed=3)
    return counts
