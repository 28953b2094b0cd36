"""Client of the Fox ESS Cloud Open API: signed requests within Fox's limits.

Fox allows about one call a second and 1,440 a day per key. The client waits
one second between calls and two between writes, keeps a persisted daily
budget below Fox's cap (counted per UTC day), backs off on "too frequent"
errors and stops for the rest of the UTC day when Fox reports the quota spent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, time, timedelta
import hashlib
import json
import math
import time as monotonic_time
from typing import Any, Protocol

import aiohttp

from .base import (
    InverterRateLimitedError,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
)

DEFAULT_BASE_URL = "https://www.foxesscloud.com"
PATH_REAL_QUERY = "/op/v1/device/real/query"
PATH_SCHEDULER_GET = "/op/v1/device/scheduler/get"
PATH_SCHEDULER_ENABLE = "/op/v1/device/scheduler/enable"
REQUEST_TIMEOUT_S = 20.0
MIN_SECONDS_BETWEEN_CALLS = 1.0
MIN_SECONDS_BETWEEN_WRITES = 2.0
# Fox's cap is 1,440 calls a day; the margin leaves room for the Fox app.
DAILY_CALL_BUDGET = 1400
BACKOFF_INITIAL_S = 10.0
BACKOFF_MAX_S = 600.0
ERRNO_OK = 0
ERRNO_TOO_FREQUENT = frozenset({40400, 41200, 41201, 41202, 41203})
ERRNO_QUOTA_EXHAUSTED = 40402
# Known codes for a rejected key or signature, and for a serial not on the account.
ERRNO_INVALID_AUTH = frozenset({40256, 40257, 41807, 41808, 41809})
ERRNO_UNKNOWN_SERIAL = frozenset({41930, 41935})


def signature(path: str, token: str, timestamp_ms: str) -> str:
    """The request signature Fox checks.

    The separators are the four characters backslash, r, backslash, n, not a
    line break: that is what Fox's servers compute.
    """
    text = path + r"\r\n" + token + r"\r\n" + timestamp_ms
    return hashlib.md5(text.encode()).hexdigest()


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


def _next_utc_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)


class BudgetStore(Protocol):
    """Where the daily call count lives; Home Assistant's `Store` fits."""

    async def async_load(self) -> Any:
        """Return the saved data, or None."""

    async def async_save(self, data: Any) -> None:
        """Save the data."""


class CallBudget:
    """Calls left today (UTC), persisted so a restart does not reset the count."""

    def __init__(
        self,
        store: BudgetStore | None = None,
        *,
        limit: int = DAILY_CALL_BUDGET,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        """Count up to `limit` calls a UTC day, saved to `store` if given."""
        self.limit = limit
        self._store = store
        self._now = now
        self._day = ""
        self._count = 0
        self._loaded = store is None

    @property
    def used(self) -> int:
        """Calls counted today."""
        self._roll()
        return self._count

    def _roll(self) -> None:
        today = self._now().astimezone(UTC).date().isoformat()
        if today != self._day:
            self._day, self._count = today, 0

    async def _load(self) -> None:
        if self._loaded:
            return
        assert self._store is not None
        data = await self._store.async_load()
        if isinstance(data, Mapping):
            day, count = data.get("day"), data.get("count")
            if isinstance(day, str) and isinstance(count, int):
                self._day, self._count = day, count
        self._loaded = True

    async def _save(self) -> None:
        if self._store is not None:
            await self._store.async_save({"day": self._day, "count": self._count})

    async def async_take(self) -> None:
        """Count one call, or raise if today's budget is spent."""
        await self._load()
        self._roll()
        if self._count >= self.limit:
            raise InverterRateLimitedError(
                Reason.DAILY_BUDGET,
                f"{self.limit} Fox Cloud calls used today",
                retry_after=_next_utc_midnight(self._now()),
            )
        self._count += 1
        await self._save()

    async def async_exhaust(self) -> None:
        """Spend the rest of today's budget: Fox says its quota is used up."""
        await self._load()
        self._roll()
        self._count = self.limit
        await self._save()


class RateLimiter:
    """Spaces calls and writes, and backs off after "too frequent" replies."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = monotonic_time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Use `clock` (seconds) and `sleep`; tests pass fakes of both."""
        self._clock = clock
        self._sleep = sleep
        self._last_call: float | None = None
        self._last_write: float | None = None
        self._backoff_s = 0.0
        self._blocked_until = -math.inf
        self._lock = asyncio.Lock()

    @property
    def backoff_s(self) -> float:
        """The current back-off delay; 0 when calls are going through."""
        return self._backoff_s

    async def async_wait(self, *, write: bool) -> None:
        """Wait for the next call slot; raise if backing off."""
        async with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                raise InverterRateLimitedError(
                    Reason.BACKING_OFF,
                    f"backing off for {self._blocked_until - now:.0f} s",
                )
            ready = -math.inf
            if self._last_call is not None:
                ready = self._last_call + MIN_SECONDS_BETWEEN_CALLS
            if write and self._last_write is not None:
                ready = max(ready, self._last_write + MIN_SECONDS_BETWEEN_WRITES)
            if ready > now:
                await self._sleep(ready - now)
            self._last_call = self._clock()
            if write:
                self._last_write = self._last_call

    def back_off(self) -> float:
        """Block calls for a delay that doubles each time, up to a cap; return it."""
        self._backoff_s = min(
            BACKOFF_MAX_S, max(BACKOFF_INITIAL_S, self._backoff_s * 2)
        )
        self._blocked_until = self._clock() + self._backoff_s
        return self._backoff_s

    def succeeded(self) -> None:
        """A call went through: forget the back-off."""
        self._backoff_s = 0.0


class FoxCloudClient:
    """Signed, rate-limited calls to the Fox ESS Cloud Open API."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        budget: CallBudget | None = None,
        limiter: RateLimiter | None = None,
        base_url: str = DEFAULT_BASE_URL,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        """Keep the caller's session; the client never closes it."""
        self._session = session
        self._api_key = api_key
        self.budget = budget or CallBudget(now=now)
        self.limiter = limiter or RateLimiter()
        self._base_url = base_url.rstrip("/")
        self._now = now

    def _headers(self, path: str) -> dict[str, str]:
        timestamp = str(round(self._now().timestamp() * 1000))
        return {
            "token": self._api_key,
            "timestamp": timestamp,
            "signature": signature(path, self._api_key, timestamp),
            "lang": "en",
            "Content-Type": "application/json",
        }

    async def async_post(
        self, path: str, body: Mapping[str, Any], *, write: bool
    ) -> Any:
        """POST `body` to `path` and return Fox's `result`, or raise an InverterError."""
        await self.limiter.async_wait(write=write)
        await self.budget.async_take()
        try:
            async with self._session.post(
                self._base_url + path,
                data=json.dumps(body),
                headers=self._headers(path),
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            ) as response:
                if response.status != 200:
                    raise InverterUnavailableError(
                        Reason.CANNOT_CONNECT, f"HTTP {response.status} from {path}"
                    )
                reply = await response.json(content_type=None)
        except TimeoutError as err:
            raise InverterUnavailableError(
                Reason.CANNOT_CONNECT, f"timeout calling {path}"
            ) from err
        except aiohttp.ClientError as err:
            raise InverterUnavailableError(
                Reason.CANNOT_CONNECT, f"error calling {path}: {err}"
            ) from err
        except ValueError as err:
            raise InverterUnavailableError(
                Reason.INVALID_RESPONSE, f"invalid JSON from {path}"
            ) from err
        if not isinstance(reply, Mapping) or not isinstance(reply.get("errno"), int):
            raise InverterUnavailableError(
                Reason.INVALID_RESPONSE, f"no errno in the reply from {path}"
            )
        return await self._result(path, reply, write=write)

    async def _result(self, path: str, reply: Mapping[str, Any], *, write: bool) -> Any:
        errno: int = reply["errno"]
        message = f"errno {errno} from {path}: {reply.get('msg', '')}"
        if errno == ERRNO_OK:
            self.limiter.succeeded()
            return reply.get("result")
        if errno in ERRNO_TOO_FREQUENT:
            delay_s = self.limiter.back_off()
            raise InverterRateLimitedError(
                Reason.RATE_LIMITED,
                message,
                retry_after=self._now() + timedelta(seconds=delay_s),
            )
        if errno == ERRNO_QUOTA_EXHAUSTED:
            await self.budget.async_exhaust()
            raise InverterRateLimitedError(
                Reason.QUOTA_EXHAUSTED,
                message,
                retry_after=_next_utc_midnight(self._now()),
            )
        if errno in ERRNO_INVALID_AUTH:
            raise InverterUnavailableError(Reason.INVALID_AUTH, message)
        if errno in ERRNO_UNKNOWN_SERIAL:
            raise InverterUnavailableError(Reason.UNKNOWN_SERIAL, message)
        if write:
            raise InverterWriteError(Reason.API_ERROR, message, errno=errno)
        raise InverterUnavailableError(Reason.API_ERROR, message)
