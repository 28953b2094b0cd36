"""Driver for the Fox ESS Cloud Open API: scheduler groups for control, real-time SoC.

Fox allows about one call a second and 1,440 a day per key. The client waits
one second between calls and two between writes, keeps a persisted daily
budget below Fox's cap (counted per UTC day), backs off on "too frequent"
errors and stops for the rest of the UTC day when Fox reports the quota spent.
Scheduler groups are local times of day that may not span midnight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, time, timedelta, tzinfo
import hashlib
import json
import math
import time as monotonic_time
from typing import Any, Protocol

import aiohttp

from ..optimizer.model import Mode
from .base import (
    Capabilities,
    DailyWindow,
    InverterCommand,
    InverterDriver,
    InverterRateLimitedError,
    InverterState,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
    daily_windows,
    state_matches,
    window_end,
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

# Fox refuses SoC settings under 10 %.
FOX_MIN_SOC_PCT = 10
FOX_MAX_SOC_PCT = 100
LAST_MINUTE_OF_DAY = 24 * 60 - 1

WORK_MODES: Mapping[Mode, str] = {
    Mode.SELF_USE: "SelfUse",
    Mode.FORCE_CHARGE: "ForceCharge",
    Mode.FORCE_DISCHARGE: "ForceDischarge",
    Mode.FEED_IN_FIRST: "Feedin",
    Mode.HOLD: "Backup",
}
MODE_OF_WORK_MODE: Mapping[str, Mode] = {v: k for k, v in WORK_MODES.items()}


def signature(path: str, token: str, timestamp_ms: str) -> str:
    """The request signature Fox checks.

    The separators are the four characters backslash, r, backslash, n, not a
    line break: that is what Fox's servers compute.
    """
    text = path + r"\r\n" + token + r"\r\n" + timestamp_ms
    return hashlib.md5(text.encode()).hexdigest()


def _utc_now() -> datetime:
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
        now: Callable[[], datetime] = _utc_now,
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
        now: Callable[[], datetime] = _utc_now,
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


def _minute_of(group: Mapping[str, Any], prefix: str) -> int:
    return int(group[f"{prefix}Hour"]) * 60 + int(group[f"{prefix}Minute"])


class FoxCloudDriver(InverterDriver):
    """Drive a Fox ESS inverter through Fox Cloud scheduler groups."""

    def __init__(
        self,
        client: FoxCloudClient,
        serial: str,
        *,
        tz: tzinfo,
        reserve_soc_pct: float,
        max_power_kw: float,
        read_soc: bool = True,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        """Drive inverter `serial`, whose schedule runs in the time zone `tz`."""
        self._client = client
        self._serial = serial
        self._tz = tz
        self._reserve_pct = round(
            min(max(reserve_soc_pct, FOX_MIN_SOC_PCT), FOX_MAX_SOC_PCT)
        )
        self._read_soc = read_soc
        self._now = now
        self.capabilities = Capabilities(
            remote_control=True,
            charge_periods=False,
            backup_mode=True,
            feed_in_first=True,
            power_unit="W",
            max_power_kw=max_power_kw,
            min_seconds_between_writes=MIN_SECONDS_BETWEEN_WRITES,
            max_calls_per_day=client.budget.limit,
            schedule_on_device=True,
        )

    async def async_validate(self) -> None:
        """Check the key and the serial with one call; raise InverterError if wrong."""
        await self.async_read_soc()

    async def async_read_soc(self) -> float | None:
        """The battery SoC from Fox's real-time data."""
        result = await self._client.async_post(
            PATH_REAL_QUERY, {"sn": self._serial, "variables": ["SoC"]}, write=False
        )
        if not isinstance(result, list):
            raise InverterUnavailableError(
                Reason.INVALID_RESPONSE, "real-time data is not a list"
            )
        for device in result:
            for item in device.get("datas", []) if isinstance(device, Mapping) else []:
                value = item.get("value") if isinstance(item, Mapping) else None
                if item.get("variable") == "SoC" and isinstance(value, (int, float)):
                    return float(value)
        return None

    async def async_read_state(self) -> InverterState:
        """Read the scheduler (and the SoC) and say what the inverter does now."""
        result = await self._client.async_post(
            PATH_SCHEDULER_GET, {"deviceSN": self._serial}, write=False
        )
        if not isinstance(result, Mapping):
            raise InverterUnavailableError(
                Reason.INVALID_RESPONSE, "scheduler reply is not an object"
            )
        soc_pct = await self.async_read_soc() if self._read_soc else None
        return self._parse_schedule(result, soc_pct)

    def _parse_schedule(
        self, result: Mapping[str, Any], soc_pct: float | None
    ) -> InverterState:
        groups = [
            group
            for group in result.get("groups") or []
            if isinstance(group, Mapping) and group.get("enable") == 1
        ]
        if not result.get("enable"):
            groups = []
        forced = [g for g in groups if g.get("workMode") != WORK_MODES[Mode.SELF_USE]]
        raw = {"scheduler_enabled": str(bool(result.get("enable"))).lower()}
        raw["forced_groups"] = str(len(forced))
        local_now = self._now().astimezone(self._tz)
        minute = local_now.hour * 60 + local_now.minute
        current = next(
            (
                g
                for g in groups
                if _minute_of(g, "start") <= minute <= _minute_of(g, "end")
            ),
            None,
        )
        if current is None:
            # Outside every group the inverter runs its base work mode, Self Use.
            return InverterState(mode=Mode.SELF_USE, soc_pct=soc_pct, raw=raw)
        mode = MODE_OF_WORK_MODE.get(str(current.get("workMode")))
        raw["work_mode"] = str(current.get("workMode"))
        if mode is Mode.SELF_USE:
            return InverterState(mode=mode, soc_pct=soc_pct, raw=raw)
        return InverterState(
            mode=mode,
            power_kw=float(current.get("fdPwr", 0)) / 1000,
            soc_pct=soc_pct,
            target_soc_pct=_target_of(mode, current),
            until=self._group_end(current, groups, local_now),
            raw=raw,
        )

    def _group_end(
        self,
        group: Mapping[str, Any],
        groups: list[Mapping[str, Any]],
        local_now: datetime,
    ) -> datetime:
        """When a group ends, following it past midnight into its continuation."""
        day = local_now.date()
        end_minute = _minute_of(group, "end") + 1
        if end_minute > LAST_MINUTE_OF_DAY:
            after = next(
                (
                    g
                    for g in groups
                    if _minute_of(g, "start") == 0
                    and g is not group
                    and _same_setting(g, group)
                ),
                None,
            )
            if after is not None:
                day += timedelta(days=1)
                end_minute = _minute_of(after, "end") + 1
        return window_end(DailyWindow(day, 0, end_minute), self._tz)

    def matches(self, state: InverterState, command: InverterCommand) -> bool:
        """Whether the schedule already does what `command` asks."""
        if command.mode is Mode.SELF_USE and state.raw.get("forced_groups") != "0":
            # A forced group later today would still fire.
            return False
        return state_matches(state, self._wanted(command), self.capabilities)

    def _wanted(self, command: InverterCommand) -> InverterCommand:
        """The command as the scheduler holds it: whole watts, whole percent."""
        target = command.target_soc_pct
        if target is not None:
            target = float(round(min(max(target, FOX_MIN_SOC_PCT), FOX_MAX_SOC_PCT)))
        return InverterCommand(
            command.mode, command.until, round(command.power_kw * 1000) / 1000, target
        )

    async def async_apply(self, command: InverterCommand) -> None:
        """Write the scheduler groups for `command`."""
        now = self._now()
        command.validate(now, self.capabilities)
        await self._client.async_post(
            PATH_SCHEDULER_ENABLE,
            {"deviceSN": self._serial, "groups": self.groups_for(command, now)},
            write=True,
        )

    def groups_for(
        self, command: InverterCommand, now: datetime
    ) -> list[dict[str, Any]]:
        """Scheduler groups that run `command` from `now`, Self Use around it."""
        if command.until is None:
            return [self._group(0, LAST_MINUTE_OF_DAY + 1, Mode.SELF_USE, command)]
        spans = sorted(
            (w.start_minute, w.end_minute)
            for w in daily_windows(now, command.until, self._tz)
        )
        groups: list[dict[str, Any]] = []
        cursor = 0
        for start, end in spans:
            if start > cursor:
                groups.append(self._group(cursor, start, Mode.SELF_USE, command))
            groups.append(self._group(start, end, command.mode, command))
            cursor = end
        if cursor <= LAST_MINUTE_OF_DAY:
            groups.append(
                self._group(cursor, LAST_MINUTE_OF_DAY + 1, Mode.SELF_USE, command)
            )
        return groups

    def _group(
        self, start: int, end: int, mode: Mode, command: InverterCommand
    ) -> dict[str, Any]:
        """One group over minutes [start, end); Fox's end minute is inclusive."""
        wanted = self._wanted(command)
        power_w = round(wanted.power_kw * 1000) if mode is command.mode else 0
        max_soc = FOX_MAX_SOC_PCT
        fd_soc = self._reserve_pct
        if mode is Mode.FORCE_CHARGE and wanted.target_soc_pct is not None:
            max_soc = round(wanted.target_soc_pct)
        if mode is Mode.FORCE_DISCHARGE:
            fd_soc = round(wanted.target_soc_pct or self._reserve_pct)
        if mode not in (Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE):
            power_w = 0
        return {
            "enable": 1,
            "startHour": start // 60,
            "startMinute": start % 60,
            "endHour": (end - 1) // 60,
            "endMinute": (end - 1) % 60,
            "workMode": WORK_MODES[mode],
            "minSocOnGrid": min(self._reserve_pct, fd_soc),
            "fdSoc": fd_soc,
            "fdPwr": power_w,
            "maxSoc": max_soc,
        }


def _target_of(mode: Mode | None, group: Mapping[str, Any]) -> float | None:
    if mode is Mode.FORCE_CHARGE:
        return float(group.get("maxSoc", FOX_MAX_SOC_PCT))
    if mode is Mode.FORCE_DISCHARGE:
        return float(group.get("fdSoc", FOX_MIN_SOC_PCT))
    return None


def _same_setting(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    keys = ("workMode", "fdPwr", "fdSoc", "maxSoc")
    return all(first.get(key) == second.get(key) for key in keys)
