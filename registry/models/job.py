"""Background jobs: long work (imports, exports, reports) with progress a page can poll."""
from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base
from registry.models.patient import utcnow


#: How the runner starts the line that says why a job failed (the last line of its messages).
FAILED_PREFIX = "failed: "


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    status: Mapped[JobStatus] = mapped_column(Enum(JobStatus, name="job_status", native_enum=False, length=20,
                                                   values_callable=lambda s: [v.value for v in s]),
                                              nullable=False, default=JobStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0, doc="percent, 0-100")
    messages: Mapped[str] = mapped_column(Text, nullable=False, default="")
    result_file: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True,
        doc="last sign of life from the worker running it; a running job whose heartbeat is too old has lost its worker")
    files_deleted_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True,
        doc="when its upload and report were deleted, its retention (JOB_FILE_RETENTION_DAYS) over")

    @property
    def failure(self) -> str | None:
        """Why a failed job failed (None unless it failed): the runner's last line, ``failed: <reason>``."""
        if self.status is not JobStatus.FAILED:
            return None
        last = (self.messages or "").rstrip("\n").rpartition("\n")[2]
        if last.startswith(FAILED_PREFIX):
            return last.removeprefix(FAILED_PREFIX)
        return "it stopped without saying why; the server log has the details"
