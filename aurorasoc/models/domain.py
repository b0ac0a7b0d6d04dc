"""Contract path (spec §1.1 C7): the transport models and enums now live in ``aurorasoc.core.vocabulary``."""

from aurorasoc.core.vocabulary import (
    IOC as IOC,
)
from aurorasoc.core.vocabulary import (
    TLP as TLP,
)
from aurorasoc.core.vocabulary import (
    ActionClass as ActionClass,
)
from aurorasoc.core.vocabulary import (
    AgentResult as AgentResult,
)
from aurorasoc.core.vocabulary import (
    AgentType as AgentType,
)
from aurorasoc.core.vocabulary import (
    Alert as Alert,
)
from aurorasoc.core.vocabulary import (
    AlertCreate as AlertCreate,
)
from aurorasoc.core.vocabulary import (
    AlertResolution as AlertResolution,
)
from aurorasoc.core.vocabulary import (
    AlertStatus as AlertStatus,
)
from aurorasoc.core.vocabulary import (
    ApprovalStatus as ApprovalStatus,
)
from aurorasoc.core.vocabulary import (
    AssetType as AssetType,
)
from aurorasoc.core.vocabulary import (
    AttestationStatus as AttestationStatus,
)
from aurorasoc.core.vocabulary import (
    Case as Case,
)
from aurorasoc.core.vocabulary import (
    CaseCreate as CaseCreate,
)
from aurorasoc.core.vocabulary import (
    CaseSource as CaseSource,
)
from aurorasoc.core.vocabulary import (
    CaseStatus as CaseStatus,
)
from aurorasoc.core.vocabulary import (
    CorrelationType as CorrelationType,
)
from aurorasoc.core.vocabulary import (
    CPSDevice as CPSDevice,
)
from aurorasoc.core.vocabulary import (
    DeviceFamily as DeviceFamily,
)
from aurorasoc.core.vocabulary import (
    DeviceHealth as DeviceHealth,
)
from aurorasoc.core.vocabulary import (
    ExecutionStatus as ExecutionStatus,
)
from aurorasoc.core.vocabulary import (
    Finding as Finding,
)
from aurorasoc.core.vocabulary import (
    FirmwareStack as FirmwareStack,
)
from aurorasoc.core.vocabulary import (
    HumanApproval as HumanApproval,
)
from aurorasoc.core.vocabulary import (
    HuntSharingMode as HuntSharingMode,
)
from aurorasoc.core.vocabulary import (
    Investigation as Investigation,
)
from aurorasoc.core.vocabulary import (
    InvestigationEvent as InvestigationEvent,
)
from aurorasoc.core.vocabulary import (
    InvestigationStatus as InvestigationStatus,
)
from aurorasoc.core.vocabulary import (
    IOCStatus as IOCStatus,
)
from aurorasoc.core.vocabulary import (
    IOCType as IOCType,
)
from aurorasoc.core.vocabulary import (
    NormalizedEvent as NormalizedEvent,
)
from aurorasoc.core.vocabulary import (
    PlaybookDefinition as PlaybookDefinition,
)
from aurorasoc.core.vocabulary import (
    PlaybookStep as PlaybookStep,
)
from aurorasoc.core.vocabulary import (
    ReportType as ReportType,
)
from aurorasoc.core.vocabulary import (
    Role as Role,
)
from aurorasoc.core.vocabulary import (
    RuntimeMode as RuntimeMode,
)
from aurorasoc.core.vocabulary import (
    Severity as Severity,
)
from aurorasoc.core.vocabulary import (
    SystemMode as SystemMode,
)
from aurorasoc.core.vocabulary import (
    TimelineEntry as TimelineEntry,
)
from aurorasoc.core.vocabulary import (
    utcnow as utcnow,
)
