"""The change feed's routes: a page of changes after a token, and the same changes live as
Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent
from litestar.response.sse import ServerSentEventMessage

from application.changes import (
    DEFAULT_CHANGES_PAGE,
    MAX_CHANGES_PAGE,
    ChangePage,
    ChangesQuery,
    FollowChanges,
    ReadChanges,
)
from entrypoints.http.auth import verified_token_expiry
from entrypoints.http.controllers import UserId
from entrypoints.http.decoding import check_request
from entrypoints.http.openapi import responses
from entrypoints.http.schemas import ChangeRead, ChangesEnvelope

Since = Annotated[
    str | None,
    QueryParameter(
        description="A token from an earlier answer (meta.next_token, or an event's id); "
        "left out: start from now"
    ),
]
_encode = msgspec.json.Encoder().encode


async def _events(pages: AsyncIterator[ChangePage | None]) -> AsyncIterator[ServerSentEventMessage]:
    async for page in pages:
        if page is None:
            yield ServerSentEventMessage(data=None, comment="keep-alive")
            continue
        for tokened in page.changes:
            change = tokened.change
            yield ServerSentEventMessage(
                data=_encode(ChangeRead.of(change)).decode(),
                event=change.type.value,
                id=tokened.token,
            )


class ChangeController(Controller):
    """Incremental sync (contract 1.1)."""

    path = "/api/{user_id:str}"
    tags = ["changes"]
    before_request = check_request

    @get("/changes", summary="The user's changes after a token", responses=responses(410, 422))
    async def changes(
        self,
        user_id: UserId,
        read_changes: NamedDependency[ReadChanges],
        since: Since = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=MAX_CHANGES_PAGE, description="Page size")
        ] = DEFAULT_CHANGES_PAGE,
    ) -> ChangesEnvelope:
        return ChangesEnvelope.of(await read_changes(ChangesQuery(user_id, since, limit)))

    @get(
        "/events",
        summary="The user's changes, live (Server-Sent Events)",
        description="Each change is an event: `id` its token, `event` its type, `data` the "
        "change as one line of JSON. Resumes after Last-Event-ID (or `since`); with neither, "
        "starts from now. A comment comes at least every 15 seconds; in AUTH_MODE=jwt the "
        "stream ends when the token expires.",
        responses=responses(410, 422),
        media_type="text/event-stream",
    )
    async def events(
        self,
        request: Request[Any, Any, Any],
        user_id: UserId,
        follow_changes: NamedDependency[FollowChanges],
        since: Since = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                required=False,
                description="The last event's id: resume after it (wins over `since`)",
            ),
        ] = None,
    ) -> ServerSentEvent:
        pages = await follow_changes(
            user_id, last_event_id or since, until=verified_token_expiry(request)
        )
        return ServerSentEvent(_events(pages))
