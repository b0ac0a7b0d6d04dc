"""The declarative base and the id/timestamp mixins every table shares.

Its own module so each capability's ``models`` module (and ``core.models_platform``) can be imported
without a cycle through ``core.models``, which re-exports them all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Uuid
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from aurorasoc.core.types import UTCDateTime, utcnow


class Base(AsyncAttrs, DeclarativeBase):
    pass


class _Keyed:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class _Mutable(_Keyed):
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
