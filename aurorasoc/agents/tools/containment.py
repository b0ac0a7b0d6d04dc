"""Containment tools (spec §16.2 ``edr`` / ``network``): they file an approval and nothing more.

Each tool stores the registered action (``isolate_host``, ``block_ip``, ``disable_user``,
``kill_process``, ``quarantine_file``) with its parameters on a human approval. Approving it runs
the action through the connectors (simulated by default, and the result says so); until then
nothing executes. A common observable (private address, loopback) is never a target.
"""

from __future__ import annotations

import ipaddress
from abc import abstractmethod
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from aurorasoc.agents.tools.base import AuroraTool, ToolContext, ToolFailure, ToolResult
from aurorasoc.core.vocabulary import ActionClass, Severity
from aurorasoc.intel.extraction import internal_address
from aurorasoc.soar.approvals import ApprovalRequest, ApprovalService
from aurorasoc.soar.connectors.registry import build_connectors


class _Why(BaseModel):
    justification: str = Field(..., min_length=1, max_length=2000, description="Why, citing the evidence")


class HostInput(_Why):
    host: str = Field(..., min_length=1, max_length=255)


class IPInput(_Why):
    ip: str = Field(..., min_length=2, max_length=64)
    duration_s: int = Field(86_400, ge=60, le=30 * 86_400)


class UserInput(_Why):
    user: str = Field(..., min_length=1, max_length=255, description="name or DOMAIN\\name")


class ProcessInput(HostInput):
    process: str = Field(..., min_length=1, max_length=1000, description="Image path or pid")


class FileInput(HostInput):
    path: str = Field(..., min_length=1, max_length=1000)


class _Containment(AuroraTool):
    """Base: file the approval for ``action`` with ``params(args)``."""

    action: ClassVar[str]
    capability: ClassVar[str]
    action_class = ActionClass.ACTUATE
    permission = "playbooks:execute"

    @abstractmethod
    def params(self, args: Any) -> tuple[str, dict[str, Any]]:
        """The approval's target and the registered action's parameters."""

    async def execute(self, ctx: ToolContext, args: Any) -> ToolResult:
        target, params = self.params(args)
        request = ApprovalRequest(
            action_type=self.action,
            requested_by=ctx.actor,
            action_params={**params, "reason": args.justification},
            risk_level=Severity.HIGH,
            target=target,
            justification=args.justification,
            case_id=ctx.case_id,
            investigation_id=ctx.investigation_id,
        )
        service = ApprovalService(ctx.session)
        approval = await service.request(request)
        ctx.extra.setdefault("approval_outboxes", []).append(service)
        simulated = bool(getattr(build_connectors().get(self.capability), "simulated", False))
        return {
            "status": "approval_required",
            "approval_id": str(approval.id),
            "action": self.action,
            "target": target,
            "connector": self.capability,
            "simulated": simulated,
        }


class IsolateEndpoint(_Containment):
    """Ask to isolate a host from the network (EDR). Files an approval; runs only once approved."""

    name = "isolate_endpoint"
    domain = "edr"
    Input = HostInput
    action = "isolate_host"
    capability = "edr"

    def params(self, args: HostInput) -> tuple[str, dict[str, Any]]:
        return args.host, {"host": args.host}


class BlockIP(_Containment):
    """Ask to block a public IP address at the firewall. Files an approval; runs only once approved."""

    name = "block_ip"
    domain = "network"
    Input = IPInput
    action = "block_ip"
    capability = "firewall"

    def params(self, args: IPInput) -> tuple[str, dict[str, Any]]:
        try:
            ip = str(ipaddress.ip_address(args.ip))
        except ValueError:
            raise ToolFailure("invalid_input", f"{args.ip!r} is not an IP address") from None
        if internal_address(ip):
            raise ToolFailure("invalid_input", f"{ip} is a private or loopback address, never a block target")
        return ip, {"ip": ip, "duration_s": args.duration_s}


class DisableUser(_Containment):
    """Ask to disable a user account (identity provider). Files an approval; runs once approved."""

    name = "disable_user"
    domain = "edr"
    Input = UserInput
    action = "disable_user"
    capability = "identity"

    def params(self, args: UserInput) -> tuple[str, dict[str, Any]]:
        return args.user, {"user": args.user}


class KillProcess(_Containment):
    """Ask to kill a process on a host (EDR). Files an approval; runs only once approved."""

    name = "kill_process"
    domain = "edr"
    Input = ProcessInput
    action = "kill_process"
    capability = "edr"

    def params(self, args: ProcessInput) -> tuple[str, dict[str, Any]]:
        return f"{args.host}:{args.process}", {"host": args.host, "process": args.process}


class QuarantineFile(_Containment):
    """Ask to quarantine a file on a host (EDR). Files an approval; runs only once approved."""

    name = "quarantine_file"
    domain = "edr"
    Input = FileInput
    action = "quarantine_file"
    capability = "edr"

    def params(self, args: FileInput) -> tuple[str, dict[str, Any]]:
        return f"{args.host}:{args.path}", {"host": args.host, "path": args.path}


CONTAINMENT_TOOLS: tuple[AuroraTool, ...] = (
    IsolateEndpoint(),
    BlockIP(),
    DisableUser(),
    KillProcess(),
    QuarantineFile(),
)
