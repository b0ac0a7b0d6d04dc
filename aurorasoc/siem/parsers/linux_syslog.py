"""Fields of the Linux programs whose syslog messages SigmaHQ's ``linux`` rules and analysts read.

* ``sudo``: ``alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id`` gives ``sudo_user``
  (who ran sudo, also ``user``) and ``TTY``/``PWD``/``USER``/``COMMAND`` as sudo prints them (the
  ``service: sudo`` rules name ``USER``).
* ``sshd``: accepted/failed logins and invalid users give ``user``, ``src_ip``, ``src_port``, ``auth_method``
  and ``outcome``.
* audit records forwarded by audisp (``type=EXECVE msg=audit(…): …``) get their audit fields, so
  ``service: auditd`` rules read them as they read audit.log.
"""

from __future__ import annotations

import re
from typing import Any

from aurorasoc.siem.parsers.auditd import parse_audit_record

_SUDO = re.compile(r"\s*(\S+) : (.*)")
_SUDO_PAIR = re.compile(r"([A-Z_]+)=(.*)")
_SSHD_LOGIN = re.compile(r"(Accepted|Failed) (\S+) for (?:invalid user )?(\S*) from (\S+) port (\d+)")
_SSHD_INVALID = re.compile(r"Invalid user (\S*) from (\S+) port (\d+)")


def _sudo(message: str, fields: dict[str, Any]) -> None:
    match = _SUDO.match(message)
    if match is None:
        return
    fields["sudo_user"] = fields["user"] = match.group(1)
    for part in match.group(2).split(" ; "):
        if (pair := _SUDO_PAIR.match(part.strip())) is not None:
            fields[pair.group(1)] = pair.group(2)
        elif part.strip():
            fields["sudo_message"] = part.strip()


def _sshd(message: str, fields: dict[str, Any]) -> None:
    if (login := _SSHD_LOGIN.search(message)) is not None:
        outcome, method, user, address, port = login.groups()
        fields.update(outcome="success" if outcome == "Accepted" else "failure", auth_method=method)
    elif (invalid := _SSHD_INVALID.search(message)) is not None:
        user, address, port = invalid.groups()
        fields["outcome"] = "failure"
    else:
        return
    fields.update(user=user, src_ip=address, src_port=int(port))


def add_program_fields(fields: dict[str, Any], message: str, source: str) -> None:
    """Add the program-specific fields of one syslog message to ``fields``."""
    program = str(fields.get("program") or "").lower()
    if program == "sudo":
        _sudo(message, fields)
    elif program == "sshd":
        _sshd(message, fields)
    elif "msg=audit(" in message and (record := parse_audit_record(message, source=source)) is not None:
        for key, value in record.fields.items():
            fields.setdefault(key, value)
