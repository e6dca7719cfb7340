"""The fixtures of the pages' own tests, shared so the API is measured on the same registries."""
from tests.rates.test_incidence import demo_registry  # noqa: F401 - demo registry with the synthetic population
from tests.research.conftest import registry_data  # noqa: F401 - crafted old ages and restricted ZIP3 areas
from tests.survival_product.conftest import demo  # noqa: F401 - 300 demo patients with survival months
