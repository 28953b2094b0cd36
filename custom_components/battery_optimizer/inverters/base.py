"""The interface every inverter driver implements, and the data it speaks in.

A driver turns an `InverterCommand` (the mode the plan wants now, with a power,
a target SoC and an end time) into writes, and reads back an `InverterState`
so that the caller writes only when the two differ. What a driver can do is
declared as data in `Capabilities`, so callers never branch on the driver type.
No Home Assistant import here: the simulated driver and the tests need none.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import math
from typing import Literal

from ..optimizer.model import Mode

type PowerUnit = Literal["kW", "W"]

# A forced mode never runs open-ended; a day is the longest a schedule can hold
# without its windows overlapping themselves.
MAX_COMMAND_DURATION = timedelta(hours=23)
POWER_TOLERANCE_KW = 0.05
SOC_TOLERANCE_PCT = 1.0
# Schedules on the inverter have minute resolution.
UNTIL_TOLERANCE = timedelta(minutes=1)
MINUTES_PER_DAY = 24 * 60

FORCED_POWER_MODES = frozenset({Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE})


class Reason(StrEnum):
    """Why a driver call failed: a stable code for translations and repair issues."""

    UNAVAILABLE = "unavailable"
    ENTITY_MISSING = "entity_missing"
    WRITE_FAILED = "write_failed"
    API_ERROR = "api_error"
    CANNOT_CONNECT = "cannot_connect"
    INVALID_AUTH = "invalid_auth"
    UNKNOWN_SERIAL = "unknown_serial"
    INVALID_RESPONSE = "invalid_response"
    RATE_LIMITED = "rate_limited"
    BACKING_OFF = "backing_off"
    DAILY_BUDGET = "daily_budget"
    QUOTA_EXHAUSTED = "quota_exhausted"
    MODE_UNSUPPORTED = "mode_unsupported"
    UNTIL_REQUIRED = "until_required"
    UNTIL_IN_PAST = "until_in_past"
    UNTIL_TOO_FAR = "until_too_far"
    POWER_OUT_OF_RANGE = "power_out_of_range"
    SOC_OUT_OF_RANGE = "soc_out_of_range"


class InverterError(Exception):
    """Base error of the drivers; `reason` is a `Reason` code."""

    def __init__(self, reason: Reason, message: str = "") -> None:
        """Keep the reason code next to a readable message."""
        super().__init__(message or reason.value)
        self.reason = reason


class InverterUnavailableError(InverterError):
    """The inverter (or its entities, or the cloud) cannot be reached or read."""


class InverterWriteError(InverterError):
    """A write was refused; `errno` holds the cloud's error number if there is one."""

    def __init__(
        self, reason: Reason, message: str = "", errno: int | None = None
    ) -> None:
        """Keep the cloud's error number, if any."""
        super().__init__(reason, message)
        self.errno = errno


class InverterRateLimitedError(InverterError):
    """A call was not made, or was refused, to stay within the API's limits."""

    def __init__(
        self, reason: Reason, message: str = "", retry_after: datetime | None = None
    ) -> None:
        """Keep the earliest time (UTC) at which calling again makes sense."""
        super().__init__(reason, message)
        self.retry_after = retry_after


class InverterCommandError(InverterError):
    """The command itself is invalid for this driver; nothing was written."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a driver can do, declared as data."""

    remote_control: bool
    charge_periods: bool
    backup_mode: bool
    feed_in_first: bool
    power_unit: PowerUnit
    max_power_kw: float
    min_seconds_between_writes: float
    max_calls_per_day: int | None
    # True when `until` is written to the inverter as a time-of-day schedule, so
    # moving it needs a write. Such schedules repeat daily: the caller releases
    # the inverter at `until` in every case.
    schedule_on_device: bool = False

    def supports(self, mode: Mode) -> bool:
        """Whether the driver can put the inverter in `mode`."""
        match mode:
            case Mode.SELF_USE:
                return True
            case Mode.FORCE_CHARGE:
                return self.remote_control or self.charge_periods
            case Mode.FORCE_DISCHARGE:
                return self.remote_control
            case Mode.HOLD:
                return self.backup_mode
            case Mode.FEED_IN_FIRST:
                return self.feed_in_first


@dataclass(frozen=True, slots=True)
class InverterCommand:
    """What the inverter should do now and until when.

    `power_kw` is the charge power in Force Charge and the discharge power in
    Force Discharge (ignored otherwise). `target_soc_pct` is where a force charge
    stops, or the floor of a force discharge. Every mode but Self Use needs
    `until` (aware datetime); Self Use is the state the inverter rests in.
    """

    mode: Mode
    until: datetime | None = None
    power_kw: float = 0.0
    target_soc_pct: float | None = None

    @property
    def is_forced(self) -> bool:
        """Whether this command must end (every mode but Self Use)."""
        return self.mode is not Mode.SELF_USE

    def validate(self, now: datetime, capabilities: Capabilities) -> None:
        """Raise InverterCommandError if the command cannot be applied at `now`."""
        if not capabilities.supports(self.mode):
            raise InverterCommandError(
                Reason.MODE_UNSUPPORTED, f"{self.mode} is not supported"
            )
        if self.is_forced:
            if self.until is None or self.until.tzinfo is None:
                raise InverterCommandError(
                    Reason.UNTIL_REQUIRED, f"{self.mode} needs an aware end time"
                )
            if self.until <= now:
                raise InverterCommandError(
                    Reason.UNTIL_IN_PAST, f"end time {self.until} is not after {now}"
                )
            if self.until - now > MAX_COMMAND_DURATION:
                raise InverterCommandError(
                    Reason.UNTIL_TOO_FAR,
                    f"end time {self.until} is more than {MAX_COMMAND_DURATION} away",
                )
        if self.mode in FORCED_POWER_MODES and not (
            math.isfinite(self.power_kw)
            and 0 <= self.power_kw <= capabilities.max_power_kw
        ):
            raise InverterCommandError(
                Reason.POWER_OUT_OF_RANGE,
                f"power {self.power_kw} kW is outside 0-{capabilities.max_power_kw} kW",
            )
        if self.target_soc_pct is not None and not (
            math.isfinite(self.target_soc_pct) and 0 <= self.target_soc_pct <= 100
        ):
            raise InverterCommandError(
                Reason.SOC_OUT_OF_RANGE,
                f"target SoC {self.target_soc_pct} % is outside 0-100 %",
            )


SELF_USE = InverterCommand(Mode.SELF_USE)


@dataclass(frozen=True, slots=True)
class InverterState:
    """What the inverter reports; None where the driver cannot tell."""

    mode: Mode | None
    power_kw: float | None = None
    soc_pct: float | None = None
    target_soc_pct: float | None = None
    until: datetime | None = None
    raw: dict[str, str] = field(default_factory=dict)


def state_matches(
    state: InverterState, command: InverterCommand, capabilities: Capabilities
) -> bool:
    """Whether the read-back state already does what the command asks."""
    if state.mode is not command.mode:
        return False
    if command.mode in FORCED_POWER_MODES and (
        state.power_kw is None
        or abs(state.power_kw - command.power_kw) > POWER_TOLERANCE_KW
    ):
        return False
    if command.target_soc_pct is not None and (
        state.target_soc_pct is None
        or abs(state.target_soc_pct - command.target_soc_pct) > SOC_TOLERANCE_PCT
    ):
        return False
    # An end time the inverter does not hold is the caller's to enforce.
    if capabilities.schedule_on_device and command.until is not None:
        return (
            state.until is not None
            and abs(state.until - command.until) <= UNTIL_TOLERANCE
        )
    return True


class InverterDriver(ABC):
    """One way of talking to an inverter."""

    capabilities: Capabilities

    @abstractmethod
    async def async_read_state(self) -> InverterState:
        """Read the inverter's mode, power, SoC and expiry."""

    @abstractmethod
    async def async_apply(self, command: InverterCommand) -> None:
        """Make the inverter do what `command` asks; raise an InverterError if not."""

    def matches(self, state: InverterState, command: InverterCommand) -> bool:
        """Whether `state` already satisfies `command`, so no write is needed."""
        return state_matches(state, command, self.capabilities)

    async def async_read_back(self, command: InverterCommand) -> InverterState:
        """The state after writing `command`.

        A driver whose readings lag its writes (entities updated by a poll)
        waits here until they show the command, or until a poll should have.
        """
        return await self.async_read_state()

    async def async_ensure(self, command: InverterCommand) -> bool:
        """Apply `command` unless the read-back state already matches; True if written."""
        if self.matches(await self.async_read_state(), command):
            return False
        await self.async_apply(command)
        return True

    async def async_release(self) -> None:
        """Return the inverter to Self Use."""
        await self.async_apply(SELF_USE)


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """A span of one local day: minutes since midnight, end exclusive (at most 1440)."""

    day: date
    start_minute: int
    end_minute: int

    @property
    def start(self) -> time:
        """Start as a time of day."""
        return time(self.start_minute // 60, self.start_minute % 60)


def daily_windows(start: datetime, end: datetime, tz: tzinfo) -> list[DailyWindow]:
    """Split [start, end) into windows that do not cross local midnight.

    Inverter schedules are written in the inverter's local time with minute
    resolution and cannot span midnight. The start is floored and the end
    rounded up to the minute, so the window always covers the request.
    """
    local_start = start.astimezone(tz).replace(second=0, microsecond=0)
    local_end = end.astimezone(tz)
    if local_end.second or local_end.microsecond:
        local_end = local_end.replace(second=0, microsecond=0) + timedelta(minutes=1)
    windows: list[DailyWindow] = []
    cursor = local_start
    while cursor < local_end:
        start_minute = cursor.hour * 60 + cursor.minute
        if local_end.date() == cursor.date():
            end_minute = local_end.hour * 60 + local_end.minute
        else:
            end_minute = MINUTES_PER_DAY
        windows.append(DailyWindow(cursor.date(), start_minute, end_minute))
        next_day = cursor.date() + timedelta(days=1)
        cursor = datetime.combine(next_day, time(), tzinfo=tz)
    return windows


def window_end(
    window: DailyWindow, tz: tzinfo, near: datetime | None = None
) -> datetime:
    """The UTC instant a window ends.

    On the autumn clock change a wall time between 01:00 and 02:00 happens
    twice; `near` (the end that was meant, if known) picks the one closer to it.
    """
    midnight = datetime.combine(window.day, time(), tzinfo=tz)
    wall = (midnight + timedelta(minutes=window.end_minute)).replace(tzinfo=None)
    candidates = {wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)}
    if near is None:
        return min(candidates)
    return min(candidates, key=lambda end: abs(end - near))
