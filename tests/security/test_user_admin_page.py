"""The Users page: every account action through the web, each one audited (issue 22.4)."""
from __future__ import annotations

import re

from sqlalchemy import select

from registry.db import db_session
from registry.models import AuditEntry, Role, User


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_administrator_manages_accounts_from_the_users_page(app, client, login, make_user):
    admin = login("admin")
    target = make_user("registrar", "reg.demo")
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'id="user-reg.demo"' in page and "<th scope=\"col\">Role</th>" in page
    token = _token(page)

    created = client.post("/admin/users", data={"username": "new.demo", "full_name": "New Demo", "role": "reviewer",
                                                "password": "correct-horse-7", "csrf_token": token})
    assert created.status_code == 302
    assert db_session.scalars(select(User).where(User.username == "new.demo")).one().role is Role.REVIEWER
    weak = client.post("/admin/users", data={"username": "weak.demo", "role": "reviewer", "password": "short",
                                             "csrf_token": token})
    assert weak.status_code == 422 and 'id="e-password"' in weak.get_data(as_text=True)

    def act(action: str, **data: str) -> int:
        return client.post(f"/admin/users/{target.id}/{action}", data={**data, "csrf_token": token}).status_code

    assert act("role", role="reviewer") == 302
    assert act("disable") == 302
    db_session.expire_all()
    user = db_session.get(User, target.id)
    assert user.role is Role.REVIEWER and not user.is_enabled
    generation = user.session_generation
    assert act("enable") == 302 and act("end_sessions") == 302
    db_session.expire_all()
    user = db_session.get(User, target.id)
    assert user.is_enabled and user.session_generation == generation + 1
    assert act("password", password="another-horse-8") == 302
    assert act("password", password="x") == 422
    assert act("explode") == 404
    actions = set(db_session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == admin.id)))
    for action in ("create_user", "set_role", "disable_user", "enable_user", "end_sessions", "reset_password"):
        assert any(a.startswith(action) for a in actions), action
    assert client.post(f"/admin/users/{admin.id}/role", data={"role": "registrar", "csrf_token": token}).status_code == 422
