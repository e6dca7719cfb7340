"""Accounts of the people who use the registry."""
from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.models.patient import utcnow


class Role(enum.StrEnum):
    """What a person may do; each role is a separate duty, not a rank."""

    REGISTRAR = "registrar"
    REVIEWER = "reviewer"
    RESEARCHER = "researcher"
    ADMIN = "admin"


#: Roles allowed to see identified patient data.
PHI_ROLES = frozenset({Role.REGISTRAR, Role.REVIEWER, Role.ADMIN})


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=20,
                                            values_callable=lambda roles: [r.value for r in roles]),
                                       nullable=False)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: Sessions carry the generation they were signed in under; raising it ends every session of the account.
    session_generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)

    @property
    def is_active(self) -> bool:  # Flask-Login asks this
        return self.is_enabled

    @property
    def may_see_phi(self) -> bool:
        return self.role in PHI_ROLES


class LoginThrottle(Base):
    """Failed sign-ins from one client address, which hold that address back with growing waits."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    held_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
