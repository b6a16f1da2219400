"""Dependencies of the participation routes: the process's participation resources (made with the app,
opened by its lifespan: ``participation.resources``) and the staff of the path's jurisdiction.

The resource dependencies are ``async`` on purpose: FastAPI runs plain ``def`` dependencies in a thread.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import STAFF
from api.path_objects import PathJurisdiction
from core.identity import Identity
from participation.electorate import ParticipationKeys
from participation.permissions import check_staff_of_jurisdiction
from participation.resources import ParticipationResources, bound_engine


async def participation_resources(request: Request) -> ParticipationResources:
    resources: ParticipationResources = request.app.state.participation
    return resources


async def participation_keys(request: Request) -> ParticipationKeys:
    return (await participation_resources(request)).keys


async def app_engine(request: Request) -> AsyncEngine | None:
    """The app's engine; ``None`` when the app runs on a caller's connection (tests that roll back)."""
    return bound_engine(request.app.state.sessionmaker)


Resources = Annotated[ParticipationResources, Depends(participation_resources)]
Keys = Annotated[ParticipationKeys, Depends(participation_keys)]
AppEngine = Annotated[AsyncEngine | None, Depends(app_engine)]


async def require_staff(identity: Annotated[Identity, Depends(STAFF)], found: PathJurisdiction) -> Identity:
    """Municipal staff *of this jurisdiction* (a field staff grant or an administrator); checked before
    any object of the path is looked up."""
    check_staff_of_jurisdiction(identity, found.id)
    return identity


StaffOfJurisdiction = Annotated[Identity, Depends(require_staff)]
