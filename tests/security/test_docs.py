"""docs/security.md lists every endpoint with the roles the access test enforces."""
from pathlib import Path

from tests.security.access_rules import role_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_role_table_in_the_docs_matches_access_rules():
    text = DOC.read_text()
    table = text.split("<!-- access-table:start -->")[1].split("<!-- access-table:end -->")[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    expected = [f"| `{endpoint}` | {who} | {why} |" for endpoint, who, why in role_table()]
    assert rows == expected, ("docs/security.md's endpoint table differs from tests/security/access_rules.py; "
                              "regenerate it with: .venv/bin/python -c \"from tests.security.access_rules import "
                              "role_table; [print(f'| `{e}` | {w} | {y} |') for e, w, y in role_table()]\"")
