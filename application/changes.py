"""Incremental sync: the change log's tokens, and the use cases that read it,
follow it live, record due reminders on it and purge it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from application.unit_of_work import UnitOfWorkFactory
from domain.changes import Change
from domain.errors import DomainError, ValidationFailed
from domain.ports import Clock
from domain.task import check_owner

MAX_CHANGES_PAGE: Final = 1000
DEFAULT_CHANGES_PAGE: Final = 500
_SIGNATURE_BYTES: Final = 16


class InvalidSyncToken(ValidationFailed):
    def __init__(self) -> None:
        super().__init__("since", "is not a valid sync token for this user")


class SyncTokenExpired(DomainError):
    """The changes after this token are no longer kept: list the tasks anew."""

    code = "SYNC_TOKEN_EXPIRED"

    def __init__(self) -> None:
        super().__init__(
            "the changes after this token are no longer kept; list the tasks anew and start "
            "from a fresh token"
        )


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:
        raise ValueError("not canonical base64url")
    return raw


class SyncTokens:
    """A position in one user's change log, signed and bound to that user."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, owner: str, payload: bytes) -> bytes:
        message = b"sync\x1f" + owner.encode() + b"\x1f" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, owner: str, seq: int) -> str:
        payload = seq.to_bytes(8, "big")
        return f"{_b64encode(payload)}.{_b64encode(self._sign(owner, payload))}"

    def decode(self, owner: str, token: str) -> int:
        try:
            payload_text, signature_text = token.split(".")
            payload = _b64decode(payload_text)
            signature = _b64decode(signature_text)
        except (ValueError, binascii.Error):
            raise InvalidSyncToken from None
        if len(payload) != 8 or not hmac.compare_digest(signature, self._sign(owner, payload)):
            raise InvalidSyncToken
        return int.from_bytes(payload, "big")


@dataclass(frozen=True, slots=True)
class ChangesQuery:
    owner: str
    since: str | None = None  # None: from now
    limit: int = DEFAULT_CHANGES_PAGE


@dataclass(frozen=True, slots=True)
class TokenedChange:
    change: Change
    token: str  # resumes right after this change


@dataclass(frozen=True, slots=True)
class ChangePage:
    changes: list[TokenedChange]
    next_token: str
    has_more: bool


class ReadChanges:
    """A page of the owner's changes after a token, oldest first, with the next token."""

    def __init__(self, uow: UnitOfWorkFactory, tokens: SyncTokens) -> None:
        self._uow = uow
        self._tokens = tokens

    async def __call__(self, query: ChangesQuery) -> ChangePage:
        if not 1 <= query.limit <= MAX_CHANGES_PAGE:
            raise ValidationFailed("limit", f"must be between 1 and {MAX_CHANGES_PAGE}")
        owner = check_owner(query.owner)
        if query.since is None:
            async with self._uow() as uow:
                window = await uow.changes.read(owner, 2**62, 1)
            return ChangePage([], self._tokens.encode(owner, window.head), has_more=False)
        after = self._tokens.decode(owner, query.since)
        # One more than asked tells whether more follow.
        async with self._uow() as uow:
            window = await uow.changes.read(owner, after, query.limit + 1)
        # Changes after the token were purged, or the token is ahead of this log (the
        # database was replaced): either way the client cannot catch up from it.
        if after < window.purged or after > window.head:
            raise SyncTokenExpired
        changes = window.changes[: query.limit]
        tokened = [TokenedChange(c, self._tokens.encode(owner, c.seq)) for c in changes]
        next_token = tokened[-1].token if tokened else query.since
        return ChangePage(tokened, next_token, has_more=len(window.changes) > query.limit)


class Subscription:
    """One follower's wake-up call for one user."""

    def __init__(self, signals: ChangeSignals, owner: str) -> None:
        self._signals = signals
        self.owner = owner
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """True when woken (something may have changed), False after `seconds`. Clears the
        call, so a wake-up during the caller's next read is not lost."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    def close(self) -> None:
        self._signals.unsubscribe(self)


class ChangeSignals:
    """In-process fan-out of "this user has new changes" to the followers of that user. The
    storage feeds it (PostgreSQL's change watcher, or the in-memory commit)."""

    def __init__(self) -> None:
        self._followers: dict[str, set[Subscription]] = {}

    def subscribe(self, owner: str) -> Subscription:
        subscription = Subscription(self, owner)
        self._followers.setdefault(owner, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        followers = self._followers.get(subscription.owner)
        if followers is not None:
            followers.discard(subscription)
            if not followers:
                del self._followers[subscription.owner]

    def notify(self, owner: str) -> None:
        for subscription in self._followers.get(owner, ()):
            subscription.wake()

    def notify_all(self) -> None:
        """After a gap in the feed (the watcher reconnected): everyone reads again."""
        for followers in self._followers.values():
            for subscription in followers:
                subscription.wake()

    def followers(self) -> int:
        return sum(len(f) for f in self._followers.values())

    def owners(self) -> list[str]:
        """The users that have followers now."""
        return list(self._followers)


class FollowChanges:
    """The owner's changes live: pages as they commit, and None when idle for a while."""

    def __init__(
        self,
        read: ReadChanges,
        signals: Callable[[], Awaitable[ChangeSignals]],
        clock: Clock,
        idle_seconds: float = 15.0,
    ) -> None:
        self._read = read
        self._signals = signals
        self._clock = clock
        self.idle_seconds = idle_seconds

    async def __call__(
        self, owner: str, since: str | None, *, until: datetime | None = None
    ) -> AsyncIterator[ChangePage | None]:
        """Checks `since` before returning (a bad token raises here, not mid-stream). None
        comes after `idle_seconds` without a change; the iterator ends at `until` (a
        credential's expiry)."""
        idle_seconds = self.idle_seconds
        signals = await self._signals()
        subscription = signals.subscribe(check_owner(owner))
        try:
            first = await self._read(ChangesQuery(owner, since, DEFAULT_CHANGES_PAGE))
        except BaseException:
            subscription.close()
            raise
        return self._follow(owner, subscription, first, idle_seconds, until)

    async def _follow(
        self,
        owner: str,
        subscription: Subscription,
        page: ChangePage,
        idle_seconds: float,
        until: datetime | None,
    ) -> AsyncIterator[ChangePage | None]:
        try:
            while True:
                if page.changes:
                    yield page
                if not page.has_more:
                    timeout = idle_seconds
                    if until is not None:
                        left = (until - self._clock.now()).total_seconds()
                        if left <= 0:
                            return
                        timeout = min(timeout, left)
                    if not await subscription.wait(timeout):
                        if until is not None and self._clock.now() >= until:
                            return
                        yield None
                page = await self._read(ChangesQuery(owner, page.next_token, DEFAULT_CHANGES_PAGE))
        finally:
            subscription.close()


class RecordDueReminders:
    """Record every reminder due now (each in its own short transaction); returns how many."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, batch: int = 1000) -> None:
        self._uow = uow
        self._clock = clock
        self._batch = batch

    async def __call__(self) -> int:
        recorded = 0
        while recorded < self._batch:
            # One task a transaction: claims across users never wait on each other's change
            # counters (a batch could lock two users' counters in opposite orders).
            async with self._uow(one_write=True) as uow:
                if not await uow.changes.record_due_reminder(self._clock.now()):
                    break
                await uow.commit()
            recorded += 1
        return recorded


class PurgeChanges:
    """Forget changes older than the retention; one purge at a time across instances."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        retention_days: int,
        batch: int = 10_000,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._retention = timedelta(days=retention_days)
        self._batch = batch

    async def __call__(self) -> int:
        before = self._clock.now() - self._retention
        purged = 0
        while True:
            async with self._uow() as uow:
                gone = await uow.changes.purge(before, self._batch)
                await uow.commit()
            if gone is None:  # another instance is purging
                return purged
            purged += gone
            if gone < self._batch:
                return purged
