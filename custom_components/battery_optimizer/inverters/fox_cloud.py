"""Driver for Fox ESS inverters through Fox Cloud: scheduler groups, real-time SoC.

Calls go through `FoxCloudClient`, which keeps within Fox's limits. Scheduler
groups are local times of day that may not span midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from homeassistant.const import UnitOfPower
from homeassistant.util.unit_conversion import PowerConverter

from ..optimizer.model import Mode
from .base import (
    Capabilities,
    DailyWindow,
    InverterCommand,
    InverterDriver,
    InverterState,
    InverterUnavailableError,
    Reason,
    daily_windows,
    state_matches,
    window_end,
)
from .fox_cloud_api import (
    MIN_SECONDS_BETWEEN_WRITES,
    PATH_REAL_QUERY,
    PATH_SCHEDULER_ENABLE,
    PATH_SCHEDULER_GET,
    FoxCloudClient,
    utc_now,
)

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
        now: Callable[[], datetime] = utc_now,
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
            power_kw=PowerConverter.convert(
                float(current.get("fdPwr", 0)), UnitOfPower.WATT, UnitOfPower.KILO_WATT
            ),
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
            # Fox takes whole watts.
            command.mode,
            command.until,
            round(command.power_kw, 3),
            target,
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
        power_w = (
            round(
                PowerConverter.convert(
                    wanted.power_kw, UnitOfPower.KILO_WATT, UnitOfPower.WATT
                )
            )
            if mode is command.mode
            else 0
        )
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
