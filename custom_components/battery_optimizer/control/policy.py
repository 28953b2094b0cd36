"""What automatic control tells the inverter, decided without Home Assistant.

`decide` turns the plan into one `InverterCommand`: the mode of the slot that
runs now, held until the end of the contiguous run of that mode, with the run's
power and the SoC at its end. A mode change must gain at least the hysteresis
threshold in the slot, estimated from the plan's own prices, or the command in
force is kept. `async_drive` writes a command only when the read-back state
differs, verifies it by reading back, and retries once. The control loop and
the control benchmark both run these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import logging

from ..inverters.base import (
    MAX_COMMAND_DURATION,
    SELF_USE,
    Capabilities,
    InverterCommand,
    InverterCommandError,
    InverterDriver,
    InverterError,
    InverterRateLimitedError,
    InverterWriteError,
    Reason,
)
from ..optimizer.model import Battery, Mode, Plan, Site, Slot

# Flows below this are solver noise, not a decision.
ACTIVE_KW = 0.05
# The hysteresis threshold is per half-hour slot, so gains are estimated over one.
SLOT_H = 0.5
WRITE_ATTEMPTS = 2
# The inverter's entities do not exist or read nothing: no write can land.
UNREACHABLE_REASONS = frozenset({Reason.ENTITY_MISSING, Reason.UNAVAILABLE})
_LOGGER = logging.getLogger(__name__)
POWER_DIGITS = 2


@dataclass(frozen=True, slots=True)
class ControlSettings:
    """The battery and grid limits the gain estimate needs, and the threshold."""

    capacity_kwh: float
    charge_limit_kw: float
    discharge_limit_kw: float
    efficiency: float  # one way
    reserve_soc_pct: float
    max_soc_pct: float
    export_limit_kw: float
    hysteresis_p: float

    @classmethod
    def from_model(
        cls, battery: Battery, site: Site, hysteresis_p: float
    ) -> ControlSettings:
        """Take the limits from the optimizer's battery and site."""
        return cls(
            capacity_kwh=battery.capacity_kwh,
            charge_limit_kw=battery.charge_limit_kw,
            discharge_limit_kw=battery.discharge_limit_kw,
            efficiency=battery.charge_efficiency,
            reserve_soc_pct=battery.reserve_soc_pct,
            max_soc_pct=battery.max_soc_pct,
            export_limit_kw=site.export_limit_kw,
            hysteresis_p=hysteresis_p,
        )


def supported_mode(mode: Mode, capabilities: Capabilities) -> Mode:
    """The mode itself if the driver can set it, else Self Use, the safe rest state."""
    return mode if capabilities.supports(mode) else Mode.SELF_USE


def current_index(plan: Plan, now: datetime) -> int | None:
    """Index of the slot that runs at `now`; None once the plan has ended."""
    return next((i for i, slot in enumerate(plan.slots) if slot.end > now), None)


def planned_command(
    plan: Plan, index: int, now: datetime, capabilities: Capabilities
) -> InverterCommand:
    """The command that carries out the run of slots starting at `index`.

    The power is the largest of the run, so the target SoC, not the power,
    ends a forced mode: one command then covers the whole run.
    """
    slots = plan.slots
    mode = supported_mode(slots[index].mode, capabilities)
    if mode is Mode.SELF_USE:
        return SELF_USE
    last = index
    while (
        last + 1 < len(slots)
        and supported_mode(slots[last + 1].mode, capabilities) is mode
    ):
        last += 1
    run = slots[index : last + 1]
    until = min(run[-1].end, now + MAX_COMMAND_DURATION)
    power_kw = 0.0
    target: float | None = None
    if mode is Mode.FORCE_CHARGE:
        power_kw = max(slot.charge_kw for slot in run)
        target = round(run[-1].soc_end_pct, 1)
    elif mode is Mode.FORCE_DISCHARGE:
        power_kw = max(slot.discharge_kw for slot in run)
        target = round(run[-1].soc_end_pct, 1)
    power_kw = round(min(max(power_kw, 0.0), capabilities.max_power_kw), POWER_DIGITS)
    return InverterCommand(mode, until, power_kw, target)


def _value_in_p_per_kwh(plan: Plan, index: int, efficiency: float) -> float:
    """What a kWh added to the store now earns: the price the plan next discharges at."""
    for slot in plan.slots[index + 1 :]:
        if slot.discharge_kw > ACTIVE_KW:
            sold = slot.export_kw > ACTIVE_KW
            price = slot.export_price_p_per_kwh if sold else slot.import_price_p_per_kwh
            return price * efficiency
    return plan.terminal_value_p_per_kwh


def _value_out_p_per_kwh(plan: Plan, index: int, efficiency: float) -> float:
    """What a kWh taken from the store now costs: the price the plan next charges at."""
    for slot in plan.slots[index + 1 :]:
        if slot.charge_kw > ACTIVE_KW:
            bought = slot.import_kw > ACTIVE_KW
            price = (
                slot.import_price_p_per_kwh if bought else slot.export_price_p_per_kwh
            )
            return price / efficiency
    return plan.terminal_value_p_per_kwh


def slot_cost_p(
    command: InverterCommand,
    slot: Slot,
    soc_pct: float,
    settings: ControlSettings,
    value_in_p: float,
    value_out_p: float,
) -> float:
    """Estimated cost of one slot run in `command`, stored energy valued as the plan does."""
    surplus_kw = slot.pv_kw - slot.load_kw
    match command.mode:
        case Mode.SELF_USE:
            battery_kw = surplus_kw
        case Mode.HOLD:
            battery_kw = max(surplus_kw, 0.0)
        case Mode.FEED_IN_FIRST:
            # Surplus PV goes to the grid first; the battery still covers the load.
            battery_kw = (
                max(surplus_kw - settings.export_limit_kw, 0.0)
                if surplus_kw > 0
                else surplus_kw
            )
        case Mode.FORCE_CHARGE:
            battery_kw = max(command.power_kw, surplus_kw)
        case Mode.FORCE_DISCHARGE:
            battery_kw = -command.power_kw
    ceiling_pct, floor_pct = settings.max_soc_pct, settings.reserve_soc_pct
    if command.target_soc_pct is not None and command.mode is Mode.FORCE_CHARGE:
        ceiling_pct = min(ceiling_pct, command.target_soc_pct)
    if command.target_soc_pct is not None and command.mode is Mode.FORCE_DISCHARGE:
        floor_pct = max(floor_pct, command.target_soc_pct)
    kwh_per_pct = settings.capacity_kwh / 100
    eff = settings.efficiency
    room_kw = max(ceiling_pct - soc_pct, 0.0) * kwh_per_pct / (eff * SLOT_H)
    spare_kw = max(soc_pct - floor_pct, 0.0) * kwh_per_pct * eff / SLOT_H
    battery_kw = min(battery_kw, settings.charge_limit_kw, room_kw)
    battery_kw = max(battery_kw, -settings.discharge_limit_kw, -spare_kw)
    grid_kw = slot.load_kw - slot.pv_kw + battery_kw
    export_kw = min(max(-grid_kw, 0.0), settings.export_limit_kw)
    cost_p = (
        max(grid_kw, 0.0) * slot.import_price_p_per_kwh
        - export_kw * slot.export_price_p_per_kwh
    ) * SLOT_H
    if battery_kw >= 0:
        return cost_p - battery_kw * eff * SLOT_H * value_in_p
    return cost_p - battery_kw / eff * SLOT_H * value_out_p


def switch_gain_p(
    plan: Plan,
    index: int,
    held: InverterCommand,
    wanted: InverterCommand,
    soc_pct: float,
    settings: ControlSettings,
) -> float:
    """How much running the slot in `wanted` instead of `held` saves, pence."""
    slot = plan.slots[index]
    value_in = _value_in_p_per_kwh(plan, index, settings.efficiency)
    value_out = _value_out_p_per_kwh(plan, index, settings.efficiency)
    held_p = slot_cost_p(held, slot, soc_pct, settings, value_in, value_out)
    wanted_p = slot_cost_p(wanted, slot, soc_pct, settings, value_in, value_out)
    return held_p - wanted_p


def decide(
    plan: Plan | None,
    now: datetime,
    soc_pct: float | None,
    held: InverterCommand | None,
    capabilities: Capabilities,
    settings: ControlSettings,
) -> InverterCommand:
    """The command for now: the plan's current run, unless switching gains too little."""
    if plan is None or (index := current_index(plan, now)) is None:
        return SELF_USE
    wanted = planned_command(plan, index, now, capabilities)
    if (
        held is None
        or settings.hysteresis_p <= 0
        or soc_pct is None
        or held.mode is wanted.mode
        or not capabilities.supports(held.mode)
        or (held.until is not None and held.until <= now)
    ):
        return wanted
    gain_p = switch_gain_p(plan, index, held, wanted, soc_pct, settings)
    return held if gain_p < settings.hysteresis_p else wanted


@dataclass(frozen=True, slots=True)
class DriveOutcome:
    """What driving one command did: writes made and the error that stopped it."""

    writes: int
    error: InverterError | None = None

    @property
    def ok(self) -> bool:
        """Whether the inverter now does what the command asks."""
        return self.error is None


async def _async_write(driver: InverterDriver, command: InverterCommand) -> None:
    if command.mode is Mode.SELF_USE:
        await driver.async_release()
    else:
        await driver.async_apply(command)


async def async_drive(driver: InverterDriver, command: InverterCommand) -> DriveOutcome:
    """Write `command` if the inverter differs, read back to verify, retry once.

    The read-back waits for the driver's readings to catch up (a Modbus poll),
    so a write on its way is never sent twice; only one that never shows is.
    Whatever a driver raises ends as an outcome, never as an exception.
    """
    try:
        if driver.matches(await driver.async_read_state(), command):
            return DriveOutcome(0)
    except InverterRateLimitedError as err:
        return DriveOutcome(0, err)
    except InverterError as err:
        if err.reason in UNREACHABLE_REASONS:
            # Writing to an inverter whose entities do not exist yet cannot help.
            return DriveOutcome(0, err)
        # Otherwise an unreadable state is not a matching one: a write may land.
    except Exception as err:
        return DriveOutcome(0, _unexpected(err))
    writes = 0
    error: InverterError = InverterWriteError(Reason.WRITE_FAILED)
    for _ in range(WRITE_ATTEMPTS):
        writes += 1
        try:
            await _async_write(driver, command)
            state = await driver.async_read_back(command)
        except Exception as err:
            if not isinstance(err, InverterError):
                return DriveOutcome(writes, _unexpected(err))
            if (
                isinstance(err, (InverterCommandError, InverterRateLimitedError))
                or err.reason is Reason.INVALID_AUTH
            ):
                # Retrying at once cannot help an invalid command, a closed
                # quota or a refused key.
                return DriveOutcome(writes, err)
            error = err
            continue
        if driver.matches(state, command):
            return DriveOutcome(writes)
        error = InverterWriteError(
            Reason.WRITE_FAILED,
            f"the inverter reads back {state.mode} after writing {command.mode}",
        )
    return DriveOutcome(writes, error)


def _unexpected(err: Exception) -> InverterError:
    """A driver fault that is not an InverterError, as one the loop can handle."""
    _LOGGER.debug("Inverter driver fault", exc_info=err)
    return InverterWriteError(Reason.WRITE_FAILED, f"{type(err).__name__}: {err}")


def target_reached(command: InverterCommand, soc_pct: float | None) -> bool:
    """Whether a forced charge has reached its target, or a discharge its floor."""
    if soc_pct is None or command.target_soc_pct is None:
        return False
    if command.mode is Mode.FORCE_CHARGE:
        return soc_pct >= command.target_soc_pct
    if command.mode is Mode.FORCE_DISCHARGE:
        return soc_pct <= command.target_soc_pct
    return False


@dataclass(frozen=True, slots=True)
class Failure:
    """A command the inverter did not take, and why."""

    command: InverterCommand
    outcome: DriveOutcome
