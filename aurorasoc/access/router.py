"""Routes under /users: the caller's profile and, for admins, account management (spec §7.6)."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Path, Request, Response, status
from sqlalchemy.exc import SQLAlchemyError

from aurorasoc.access.schemas import Me, PasswordChange, UserCreate, UserOut, UserUpdate
from aurorasoc.access.users import UserService
from aurorasoc.core.actor import Actor
from aurorasoc.core.auth import Principal, require_permission
from aurorasoc.core.errors import InvalidInput
from aurorasoc.core.schemas import Page
from aurorasoc.core.web.deps import CurrentPrincipal, DbSession, Paging, client_ip, require_database
from aurorasoc.core.web.routing import IndexedRouter
from aurorasoc.core.web.showcase import SHOWCASE_HEADER

log = logging.getLogger(__name__)
router = IndexedRouter(prefix="/users", tags=["users"])

ManageUsers = Depends(require_permission("users:manage"))
Username = Annotated[str, Path(min_length=1, max_length=64, description="Login name")]


@router.get(
    "/me",
    response_model=Me,
    summary="Who am I, and what may I do. Permission: any authenticated principal",
)
async def me(principal: CurrentPrincipal, session: DbSession) -> Me:
    """Answers even while the database is down, so the console can explain the outage."""
    display_name = email = None
    if principal.auth_provider != "api_key":
        try:
            user = await UserService(session).find(principal.username)
        except (SQLAlchemyError, OSError):
            log.warning("profile lookup failed; answering from the token alone")
            user = None
        if user is not None:
            display_name, email = user.display_name, user.email
    return Me(
        username=principal.username,
        display_name=display_name,
        email=email,
        role=principal.role,
        permissions=sorted(principal.permissions),
        auth_provider=principal.auth_provider,
    )


@router.put(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Change your own local password. Permission: any authenticated principal",
)
async def change_password(
    body: PasswordChange, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    if principal.auth_provider != "local":
        raise InvalidInput("only local accounts have a password to change", code="not_local_account")
    await UserService(session).change_own_password(
        body.current_password, body.new_password, actor=Actor.of(principal, client_ip(request))
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "",
    response_model=Page[UserOut],
    summary="List user accounts. Permission: users:manage",
    dependencies=[ManageUsers, Depends(require_database)],
)
async def list_users(session: DbSession, paging: Paging, response: Response) -> Page[UserOut]:
    rows, total = await UserService(session).list(skip=paging.skip, limit=paging.limit)
    response.headers[SHOWCASE_HEADER] = "database"
    return Page[UserOut](
        items=[UserOut.model_validate(row) for row in rows], total=total, skip=paging.skip, limit=paging.limit
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create a local user. Permission: users:manage",
)
async def create_user(
    body: UserCreate, request: Request, session: DbSession, principal: Principal = ManageUsers
) -> UserOut:
    user = await UserService(session, granter=principal.permissions).add(
        body.username, body.password, body.role, display_name=body.display_name, email=body.email,
        actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return UserOut.model_validate(user)


@router.patch(
    "/{username}",
    response_model=UserOut,
    summary="Change a user's role, state, profile or password. Permission: users:manage",
)
async def update_user(
    body: UserUpdate,
    username: Username,
    request: Request,
    session: DbSession,
    principal: Principal = ManageUsers,
) -> UserOut:
    """The last active admin cannot be demoted or disabled (409). Grants are bounded by the caller's
    own permissions (403); a password reset or role change ends the user's sessions."""
    user = await UserService(session, granter=principal.permissions).edit(
        username, role=body.role, is_active=body.is_active, password=body.password,
        profile=body.profile_changes(), actor=Actor.of(principal, client_ip(request)),
    )  # fmt: skip
    return UserOut.model_validate(user)


@router.delete(
    "/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a user. Permission: users:manage",
)
async def delete_user(
    username: Username, request: Request, session: DbSession, principal: Principal = ManageUsers
) -> Response:
    """The last active admin cannot be deleted (409); only an admin deletes an admin (403)."""
    service = UserService(session, granter=principal.permissions)
    await service.remove(username, actor=Actor.of(principal, client_ip(request)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
