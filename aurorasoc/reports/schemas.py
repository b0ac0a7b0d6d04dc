"""Bodies and responses of the /reports routes (spec §10, §19)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from aurorasoc.core.schemas import Preview
from aurorasoc.reports.service import ReportType


class ReportGenerate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: uuid.UUID
    report_type: ReportType


class ReportOut(BaseModel):
    """List rows and case-detail entries: metadata without the rendered content."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    report_type: ReportType
    title: str
    generated_by: str
    narrative_source: str
    created_at: datetime


class ReportDetail(ReportOut):
    content_md: str
    content_html: str
    snapshot: dict[str, Any]


class ReportPreview(Preview):
    """``?preview=true``: the effects plus the rendered report, which is not stored (spec §6 "pv")."""

    report: ReportDetail
