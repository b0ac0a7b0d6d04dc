"""What correlation calls the cases it opens, and how it tells that nobody has renamed them since.

An opened case is named after its most severe detection and where it happened; the title and a
digest of the description it was given are kept in the case's metadata, so correlation renames only
a case whose title and description are still its own.
"""

from __future__ import annotations

import hashlib

from aurorasoc.alerts.models import AlertModel
from aurorasoc.cases.models import CaseModel
from aurorasoc.cases.service import TITLE_MAX

AUTO_TITLE, AUTO_DESCRIPTION = "auto_title", "auto_description_sha256"


def case_title(alert: AlertModel) -> str:
    """What an auto-opened case is called: its most severe detection, and where it happened (pure)."""
    where = alert.host or alert.user_name or (f"from {alert.src_ip}" if alert.src_ip else None)
    return (f"{where}: {alert.title}" if where else alert.title)[:TITLE_MAX].strip()  # as create stores it


def auto_naming(title: str, description: str | None) -> dict[str, str]:
    """What correlation named the case (the description by digest: it can be 20,000 characters)."""
    return {AUTO_TITLE: title, AUTO_DESCRIPTION: _digest(description)}


def title_unedited(case: CaseModel) -> bool:
    return case.title == (case.metadata_ or {}).get(AUTO_TITLE)


def description_unedited(case: CaseModel) -> bool:
    return _digest(case.description) == (case.metadata_ or {}).get(AUTO_DESCRIPTION)


def _digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()
