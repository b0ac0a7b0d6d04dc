"""Every ORM model, re-exported from the package that owns it (spec §1.1 C1, §2.3, §4).

A contract path: tests and the test guide import models from here, and importing this module registers
every table on ``Base.metadata`` (Alembic, ``create_all``). Code inside ``aurorasoc`` imports a model from
its owning package instead; the import-linter contract exempts this module's imports of capability models.
Enum-valued columns hold the enum's string value so rows compare equal to plain strings
(``alert.severity == "high"``). Primary keys are UUIDs generated client-side at flush.
"""

from __future__ import annotations

from aurorasoc.agents.models import InvestigationEventModel as InvestigationEventModel
from aurorasoc.agents.models import InvestigationModel as InvestigationModel
from aurorasoc.alerts.models import OPEN_ALERT_PREDICATE as OPEN_ALERT_PREDICATE
from aurorasoc.alerts.models import AlertModel as AlertModel
from aurorasoc.cases.models import CaseModel as CaseModel
from aurorasoc.cases.models import TimelineEntryModel as TimelineEntryModel
from aurorasoc.cases.models_files import CaseEvidenceModel as CaseEvidenceModel
from aurorasoc.core.models_base import Base as Base
from aurorasoc.core.models_platform import ApiKeyModel as ApiKeyModel
from aurorasoc.core.models_platform import AuditLogModel as AuditLogModel
from aurorasoc.core.models_platform import RevokedTokenModel as RevokedTokenModel
from aurorasoc.core.models_platform import SystemSettingModel as SystemSettingModel
from aurorasoc.core.models_platform import UserModel as UserModel
from aurorasoc.cps.models import AccessBadgeModel as AccessBadgeModel
from aurorasoc.cps.models import AttestationNonceModel as AttestationNonceModel
from aurorasoc.cps.models import AttestationRecordModel as AttestationRecordModel
from aurorasoc.cps.models import CPSConduitModel as CPSConduitModel
from aurorasoc.cps.models import CPSDeviceModel as CPSDeviceModel
from aurorasoc.cps.models import CPSTelemetryModel as CPSTelemetryModel
from aurorasoc.cps.models import CPSZoneModel as CPSZoneModel
from aurorasoc.cps.models import FirmwareBundleModel as FirmwareBundleModel
from aurorasoc.cps.models import FirmwareRolloutModel as FirmwareRolloutModel
from aurorasoc.detection.models import DetectionRuleModel as DetectionRuleModel
from aurorasoc.detection.models import RuleExceptionModel as RuleExceptionModel
from aurorasoc.detection.models import RuleHitDayModel as RuleHitDayModel
from aurorasoc.detection.models import RulePackModel as RulePackModel
from aurorasoc.intel.models import AlertIOCModel as AlertIOCModel
from aurorasoc.intel.models import AllowListEntryModel as AllowListEntryModel
from aurorasoc.intel.models import IOCModel as IOCModel
from aurorasoc.intel.models import ObservableModel as ObservableModel
from aurorasoc.intel.models_feeds import IntelFeedModel as IntelFeedModel
from aurorasoc.memory.models import VectorEmbeddingModel as VectorEmbeddingModel
from aurorasoc.network.models import NetworkAttackModel as NetworkAttackModel
from aurorasoc.network.models import SiteLinkModel as SiteLinkModel
from aurorasoc.network.models import SiteModel as SiteModel
from aurorasoc.reports.models import ReportModel as ReportModel
from aurorasoc.siem.models import SIEM_FTS_DDL as SIEM_FTS_DDL
from aurorasoc.siem.models import SIEM_FTS_REPOPULATE as SIEM_FTS_REPOPULATE
from aurorasoc.siem.models import SIEM_PREFIX_COLUMNS as SIEM_PREFIX_COLUMNS
from aurorasoc.siem.models import SIEM_SEARCH_VECTOR as SIEM_SEARCH_VECTOR
from aurorasoc.siem.models import LogSourceModel as LogSourceModel
from aurorasoc.siem.models import SiemEntityDayModel as SiemEntityDayModel
from aurorasoc.siem.models import SiemHuntModel as SiemHuntModel
from aurorasoc.siem.models import SiemLogModel as SiemLogModel
from aurorasoc.soar.models import AutomationRuleModel as AutomationRuleModel
from aurorasoc.soar.models import ConnectorActionModel as ConnectorActionModel
from aurorasoc.soar.models import HumanApprovalModel as HumanApprovalModel
from aurorasoc.soar.models import PlaybookExecutionModel as PlaybookExecutionModel
from aurorasoc.soar.models import PlaybookModel as PlaybookModel
