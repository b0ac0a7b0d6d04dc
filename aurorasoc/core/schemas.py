"""Response shapes shared by every router."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")
DataSource = Literal["database", "showcase"]


class Page(BaseModel, Generic[T]):
    """One page of a list: ``total`` counts every match, not just this page."""

    items: list[T]
    total: int
    skip: int
    limit: int
    data_source: DataSource = "database"


class Preview(BaseModel):
    """What an operator action would do, returned by ``?preview=true`` without persisting."""

    preview: Literal[True] = True
    mode: str
    effects: list[dict[str, Any]] = Field(default_factory=list)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    detail: str | ErrorDetail
