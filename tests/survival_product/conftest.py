"""Shared fixtures: a small demo registry (its survival months come from the bulk recompute)
and the demo population's synthetic life table."""
import pytest

from registry.audit import SYSTEM, operation


@pytest.fixture
def demo(app):
    from registry.demo import load_demo_data
    from reports.lifetables import install_for_demo_data
    with operation(SYSTEM, "demo_data") as session:
        counts = load_demo_data(session, 300, seed=3)
    install_for_demo_data(lambda _message: None)
    return counts
