"""Driver for inverters run by the foxess_modbus integration, through its entities.

Models with remote control get Force Charge and Force Discharge as work-mode
options, with the power set on two numbers in kW. Models with only charge
periods force-charge through `foxess_modbus.update_charge_period`, whose periods
are local times of day that may not span midnight, so a window is split in two.
Charge periods repeat every day: the caller must release them at `until`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
import math
from typing import Any

from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_call_later,
    async_track_state_change_event,
)

from ..optimizer.model import DEFAULT_NOMINAL_VOLTAGE_V, Mode
from .base import (
    MINUTES_PER_DAY,
    UNTIL_TOLERANCE,
    Capabilities,
    InverterCommand,
    InverterDriver,
    InverterError,
    InverterState,
    InverterUnavailableError,
    InverterWriteError,
    Reason,
    daily_windows,
    state_matches,
    window_end,
)
from .foxess_modbus_entities import (
    CHARGE_PERIOD_COUNT,
    FOXESS_MODBUS_DOMAIN,
    FoxessModbusEntities,
)

SERVICE_UPDATE_CHARGE_PERIOD = "update_charge_period"
# The service accepts an end of 23:59 at the latest.
LAST_MINUTE_OF_DAY = MINUTES_PER_DAY - 1
# foxess_modbus polls every 10 s (serial) or 15 s (TCP): two polls and a margin.
READ_BACK_TIMEOUT = 40.0

WORK_MODE_OPTIONS: Mapping[Mode, str] = {
    Mode.SELF_USE: "Self Use",
    Mode.FEED_IN_FIRST: "Feed-in First",
    Mode.HOLD: "Back-up",
    Mode.FORCE_CHARGE: "Force Charge",
    Mode.FORCE_DISCHARGE: "Force Discharge",
}
MODE_OF_OPTION: Mapping[str, Mode] = {v: k for k, v in WORK_MODE_OPTIONS.items()}


@dataclass(frozen=True, slots=True)
class _Reading:
    """One entity's state: value and the bounds a number accepts."""

    state: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def number(self) -> float | None:
        try:
            value = float(self.state)
        except ValueError:
            return None
        return value if math.isfinite(value) else None


def _clamp(value: float, reading: _Reading | None) -> float:
    if reading is not None and reading.maximum is not None:
        value = min(value, reading.maximum)
    if reading is not None and reading.minimum is not None:
        value = max(value, reading.minimum)
    return value


def _bound(attributes: Mapping[str, Any], name: str) -> float | None:
    value = attributes.get(name)
    return float(value) if isinstance(value, (int, float)) else None


class FoxessModbusDriver(InverterDriver):
    """Drive a Fox ESS inverter through the foxess_modbus integration's entities."""

    def __init__(
        self,
        hass: HomeAssistant,
        entities: FoxessModbusEntities,
        *,
        tz: tzinfo,
        reserve_soc_pct: float,
        max_power_kw: float,
        battery_voltage_v: float = DEFAULT_NOMINAL_VOLTAGE_V,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Drive `entities`; charge periods are written in the time zone `tz`."""
        self._hass = hass
        self.entities = entities
        self._tz = tz
        self._reserve_soc_pct = reserve_soc_pct
        self._voltage_v = battery_voltage_v
        self._clock = clock
        self.capabilities = Capabilities(
            remote_control=entities.remote_control,
            charge_periods=entities.charge_periods,
            backup_mode=True,
            feed_in_first=True,
            power_unit="kW",
            max_power_kw=max_power_kw,
            min_seconds_between_writes=0.0,
            max_calls_per_day=None,
            schedule_on_device=entities.charge_periods,
        )
        # The end of the charge window last written; the entities show whether a
        # period is on but not which day it belongs to.
        self._period_until: datetime | None = None

    def _read(
        self, entity_id: str | None, *, required: bool = False
    ) -> _Reading | None:
        if entity_id is None:
            return None
        state = self._hass.states.get(entity_id)
        if state is None or state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            if required:
                reason = Reason.ENTITY_MISSING if state is None else Reason.UNAVAILABLE
                raise InverterUnavailableError(reason, f"{entity_id} cannot be read")
            return None
        return _Reading(
            state.state,
            _bound(state.attributes, "min"),
            _bound(state.attributes, "max"),
        )

    def _number(self, entity_id: str | None) -> float | None:
        reading = self._read(entity_id)
        return reading.number if reading is not None else None

    def _periods_on(self) -> bool:
        return any(
            (reading := self._read(entity_id)) is not None and reading.state == STATE_ON
            for entity_id in self.entities.charge_period_enabled
        )

    async def async_read_state(self) -> InverterState:
        """Read the work mode, power, floor SoC and SoC from the entities."""
        return self._read_state_now()

    def _read_state_now(self) -> InverterState:
        entities = self.entities
        option = self._read(entities.work_mode, required=True)
        assert option is not None
        mode = MODE_OF_OPTION.get(option.state)
        until: datetime | None = None
        power_kw: float | None = None
        if entities.charge_periods:
            if self._periods_on() or (
                not entities.charge_period_enabled and self._period_until is not None
            ):
                mode, until = Mode.FORCE_CHARGE, self._period_until
                current_a = self._number(entities.max_charge_current)
                if current_a is not None:
                    power_kw = current_a * self._voltage_v / 1000
        elif mode is Mode.FORCE_CHARGE:
            power_kw = self._number(entities.force_charge_power)
        elif mode is Mode.FORCE_DISCHARGE:
            power_kw = self._number(entities.force_discharge_power)
        raw = {"work_mode": option.state}
        if until is not None:
            raw["charge_period_until"] = until.isoformat()
        return InverterState(
            mode=mode,
            power_kw=power_kw,
            soc_pct=self._number(entities.battery_soc),
            target_soc_pct=self._number(entities.min_soc_on_grid),
            until=until,
            raw=raw,
        )

    def _wanted(self, command: InverterCommand) -> InverterCommand:
        """The command as the entities can express it: power clipped, floor chosen."""
        entities = self.entities
        floor_pct: float | None = None
        if entities.min_soc_on_grid is not None:
            # Min SoC on grid is the floor of a force discharge; in every other
            # mode it holds the user's reserve.
            floor_pct = _clamp(
                command.target_soc_pct
                if command.mode is Mode.FORCE_DISCHARGE
                and command.target_soc_pct is not None
                else self._reserve_soc_pct,
                self._read(entities.min_soc_on_grid),
            )
        power_kw = command.power_kw
        if command.mode is Mode.FORCE_CHARGE and entities.charge_periods:
            if entities.max_charge_current is None:
                power_kw = math.nan
            else:
                current_a = _clamp(
                    power_kw * 1000 / self._voltage_v,
                    self._read(entities.max_charge_current),
                )
                power_kw = current_a * self._voltage_v / 1000
        elif command.mode is Mode.FORCE_CHARGE and entities.force_charge_power:
            power_kw = _clamp(power_kw, self._read(entities.force_charge_power))
        elif command.mode is Mode.FORCE_DISCHARGE and entities.force_discharge_power:
            power_kw = _clamp(power_kw, self._read(entities.force_discharge_power))
        return replace(command, power_kw=power_kw, target_soc_pct=floor_pct)

    def matches(self, state: InverterState, command: InverterCommand) -> bool:
        """Whether the entities already show what `command` asks."""
        wanted = self._wanted(command)
        if math.isnan(wanted.power_kw):
            # Without a current number the charge rate is whatever it is.
            wanted = replace(wanted, power_kw=0.0)
            state = replace(state, power_kw=0.0)
        return state_matches(state, wanted, self.capabilities)

    async def async_apply(self, command: InverterCommand) -> None:
        """Write only the settings that differ from the entities, then the mode."""
        now = self._clock()
        command.validate(now, self.capabilities)
        state = await self.async_read_state()
        wanted = self._wanted(command)
        entities = self.entities
        if wanted.target_soc_pct is not None and not _close(
            state.target_soc_pct, wanted.target_soc_pct
        ):
            await self._set_number(entities.min_soc_on_grid, wanted.target_soc_pct)
        if entities.charge_periods:
            await self._apply_charge_periods(state, wanted, now)
            return
        if wanted.mode in (Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE):
            number = (
                entities.force_charge_power
                if wanted.mode is Mode.FORCE_CHARGE
                else entities.force_discharge_power
            )
            if not _close(self._number(number), wanted.power_kw):
                await self._set_number(number, wanted.power_kw)
        await self._select_mode(state, wanted.mode)

    async def async_read_back(self, command: InverterCommand) -> InverterState:
        """Wait for the entities to show `command`: they follow a write on a poll."""
        state = await self.async_read_state()
        if self.matches(state, command):
            return state
        done: asyncio.Future[None] = self._hass.loop.create_future()

        @callback
        def _finish(*_: Any) -> None:
            if not done.done():
                done.set_result(None)

        @callback
        def _on_change(_: Event[EventStateChangedData]) -> None:
            try:
                if self.matches(self._read_state_now(), command):
                    _finish()
            except InverterError:
                pass  # still unreadable: keep waiting

        unsubs = [
            async_track_state_change_event(
                self._hass, self._watched_entities(), _on_change
            ),
            async_call_later(self._hass, READ_BACK_TIMEOUT, _finish),
        ]
        try:
            await done
        finally:
            for unsub in unsubs:
                unsub()
        return await self.async_read_state()

    def _watched_entities(self) -> list[str]:
        """The entities whose states make up the read-back state."""
        entities = self.entities
        watched = [
            entities.work_mode,
            entities.force_charge_power,
            entities.force_discharge_power,
            entities.max_charge_current,
            entities.min_soc_on_grid,
            *entities.charge_period_enabled,
        ]
        return [entity_id for entity_id in watched if entity_id is not None]

    async def _apply_charge_periods(
        self, state: InverterState, wanted: InverterCommand, now: datetime
    ) -> None:
        entities = self.entities
        current = entities.max_charge_current
        if wanted.mode is Mode.FORCE_CHARGE:
            if current is not None and not math.isnan(wanted.power_kw):
                current_a = round(wanted.power_kw * 1000 / self._voltage_v, 1)
                if not _close(self._number(current), current_a):
                    await self._set_number(current, current_a)
            await self._select_mode(state, Mode.SELF_USE)
            assert wanted.until is not None
            if (
                state.mode is not Mode.FORCE_CHARGE
                or state.until is None
                or abs(state.until - wanted.until) > UNTIL_TOLERANCE
            ):
                await self._write_periods(now, wanted.until)
            return
        if state.mode is Mode.FORCE_CHARGE:
            await self._write_periods(now, None)
        # Outside a force charge the battery may take its full current again.
        reading = self._read(current)
        if (
            reading is not None
            and reading.maximum is not None
            and not _close(reading.number, reading.maximum)
        ):
            await self._set_number(current, reading.maximum)
        await self._select_mode(state, wanted.mode)

    async def _write_periods(self, now: datetime, until: datetime | None) -> None:
        """Set the charge periods to [now, until), or clear them when until is None."""
        windows = [] if until is None else daily_windows(now, until, self._tz)
        windows = [
            w for w in windows if min(w.end_minute, LAST_MINUTE_OF_DAY) > w.start_minute
        ]
        # Clear the later period first: the service refuses a period that
        # overlaps the other one as it stands.
        for period in range(CHARGE_PERIOD_COUNT, len(windows), -1):
            await self._call_period(period, None)
        for period, window in enumerate(windows, start=1):
            end_minute = min(window.end_minute, LAST_MINUTE_OF_DAY)
            await self._call_period(
                period,
                (
                    f"{window.start:%H:%M}:00",
                    f"{end_minute // 60:02d}:{end_minute % 60:02d}:00",
                ),
            )
        self._period_until = (
            window_end(windows[-1], self._tz, near=until) if windows else None
        )

    async def _call_period(self, period: int, span: tuple[str, str] | None) -> None:
        data: dict[str, Any] = {
            "inverter": self.entities.inverter,
            "charge_period": period,
            "enable_force_charge": span is not None,
            "enable_charge_from_grid": span is not None,
        }
        if span is not None:
            data["start"], data["end"] = span
        await self._call(FOXESS_MODBUS_DOMAIN, SERVICE_UPDATE_CHARGE_PERIOD, data)

    async def _select_mode(self, state: InverterState, mode: Mode) -> None:
        option = WORK_MODE_OPTIONS[mode]
        if state.raw.get("work_mode") != option:
            await self._call(
                "select",
                "select_option",
                {"entity_id": self.entities.work_mode, "option": option},
            )

    async def _set_number(self, entity_id: str | None, value: float) -> None:
        await self._call(
            "number", "set_value", {"entity_id": entity_id, "value": value}
        )

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        try:
            await self._hass.services.async_call(domain, service, data, blocking=True)
        except HomeAssistantError as err:
            raise InverterWriteError(
                Reason.WRITE_FAILED, f"{domain}.{service} {data} failed: {err}"
            ) from err


def _close(value: float | None, wanted: float) -> bool:
    # Numbers round-trip through the inverter's registers at 0.001 to 1 units.
    return value is not None and abs(value - wanted) < 0.01
