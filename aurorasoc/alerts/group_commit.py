"""Group commit for single alert submissions (spec §28 writes): concurrent ``POST /alerts`` share
one transaction.

A request's unit of work (write, commit, then publish) cost more in round trips, statement set-up
and commits than in the alert itself, and on SQLite every request queued for the one writer. Here
each submission joins a per-event-loop queue; one writer task takes everything waiting (at most
``MAX_GROUP``) and runs it through :meth:`AlertCommands.submit`: one multi-row ``INSERT … ON
CONFLICT`` (dedup by the unique index, repeats in the group folded), one commit, one pipelined
publish. While it writes, the next group gathers, so a lone request waits for nobody and a burst
is written in few transactions. ``AlertCommands`` still owns the unit of work; the queue only
chooses which submissions share it.

A group that fails is written again one submission at a time, so one bad alert fails only its own
request; a busy or unreachable database fails them all (503), as it would each of them. Past
``MAX_WAITING`` queued submissions a request is answered 503 with ``Retry-After`` at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from dataclasses import dataclass

from aurorasoc.alerts.commands import AlertCommands
from aurorasoc.alerts.models import AlertModel
from aurorasoc.core.db import DatabaseBusy, DatabaseUnavailable, get_session_factory
from aurorasoc.core.vocabulary import AlertCreate

MAX_GROUP = 500  # submissions per transaction: the batch endpoint's limit
MAX_WAITING = 5000  # queued submissions before new ones are refused (503)
_ALL_FAIL = (DatabaseBusy, DatabaseUnavailable)  # the database, not the alert: no retry one by one
Outcome = tuple[AlertModel, bool]


@dataclass(frozen=True)
class _Pending:
    item: AlertCreate
    done: asyncio.Future[Outcome]


def _settle(future: asyncio.Future[Outcome]) -> None:
    """Mark an outcome read: a request that left before its write finished never reads it."""
    if not future.cancelled():
        future.exception()


class AlertWriteQueue:
    """The submissions of one event loop waiting for their group's transaction."""

    def __init__(self) -> None:
        self._waiting: list[_Pending] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: AlertCreate) -> Outcome:
        """Write ``item`` with whatever else is waiting; its row and True when it created it.

        The write goes on if the request is cancelled (the client left): others share it.
        """
        if len(self._waiting) >= MAX_WAITING:
            raise DatabaseBusy(f"{MAX_WAITING} alert submissions are already waiting to be written")
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        done.add_done_callback(_settle)
        self._waiting.append(_Pending(item, done))
        if self._writer is None or self._writer.done():
            # A fresh context: the writer serves many requests, so it carries none's log context.
            self._writer = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            await self._write(group)

    async def _write(self, group: list[_Pending]) -> None:
        try:
            async with get_session_factory()() as session:
                outcomes = await AlertCommands(session).submit([p.item for p in group])
        except Exception as exc:  # handed to the requests waiting for it
            if len(group) == 1 or isinstance(exc, _ALL_FAIL):
                for pending in group:
                    if not pending.done.done():
                        pending.done.set_exception(exc)
                return
            for pending in group:  # one bad submission must not fail the others
                await self._write([pending])
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            if not pending.done.done():
                pending.done.set_result(outcome)


_queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AlertWriteQueue] = weakref.WeakKeyDictionary()


def alert_write_queue() -> AlertWriteQueue:
    """This event loop's queue (tests run several loops in one process)."""
    loop = asyncio.get_running_loop()
    queue = _queues.get(loop)
    if queue is None:
        queue = _queues[loop] = AlertWriteQueue()
    return queue
