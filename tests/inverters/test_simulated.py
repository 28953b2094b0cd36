"""Tests of the simulated battery and inverter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.battery_optimizer.inverters.base import (
    SELF_USE,
    InverterCommand,
    InverterCommandError,
)
from custom_components.battery_optimizer.inverters.simulated import (
    SimulatedBattery,
    SimulatedDriver,
)
from custom_components.battery_optimizer.optimizer.model import Mode

START = datetime(2024, 1, 1, tzinfo=UTC)
BATTERY = SimulatedBattery(
    capacity_kwh=10.0,
    charge_limit_kw=3.0,
    discharge_limit_kw=3.0,
    charge_efficiency=1.0,
    discharge_efficiency=1.0,
    reserve_soc_pct=10.0,
    max_soc_pct=100.0,
    export_limit_kw=2.0,
)


def _driver(soc_pct: float, load: list[float], pv: list[float]) -> SimulatedDriver:
    return SimulatedDriver(
        BATTERY, start=START, soc_pct=soc_pct, load_kw=load, pv_kw=pv
    )


async def test_self_use_covers_load_from_pv_surplus_then_battery() -> None:
    driver = _driver(50.0, load=[1.0, 1.0], pv=[3.0, 0.0])
    driver.advance(START + timedelta(minutes=30))
    # 2 kW surplus for half an hour: +1 kWh.
    assert driver.soc_pct == pytest.approx(60.0)
    driver.advance(START + timedelta(hours=1))
    assert driver.soc_pct == pytest.approx(55.0)
    assert driver.totals.import_kwh == pytest.approx(0.0)
    state = await driver.async_read_state()
    assert state.mode is Mode.SELF_USE
    assert state.soc_pct == pytest.approx(55.0)


async def test_force_charge_stops_at_target_and_expires() -> None:
    driver = _driver(50.0, load=[0.0], pv=[0.0])
    until = START + timedelta(hours=2)
    await driver.async_apply(InverterCommand(Mode.FORCE_CHARGE, until, 3.0, 70.0))
    driver.advance(START + timedelta(hours=1))
    # 3 kW for 40 minutes, then held at the 70 % target.
    assert driver.soc_pct == pytest.approx(70.0)
    assert driver.totals.import_kwh == pytest.approx(2.0)
    driver.advance(until + timedelta(minutes=1))
    assert driver.command == SELF_USE
    assert (driver.totals.writes, driver.totals.mode_changes) == (1, 1)


async def test_force_discharge_respects_floor_and_reserve() -> None:
    driver = _driver(30.0, load=[0.5], pv=[0.0])
    until = START + timedelta(hours=3)
    await driver.async_apply(InverterCommand(Mode.FORCE_DISCHARGE, until, 2.0, 20.0))
    driver.advance(START + timedelta(hours=2))
    assert driver.soc_pct == pytest.approx(20.0)
    # 1 kWh out at 2 kW: half an hour, of which 0.5 kW fed the house.
    assert driver.totals.export_kwh == pytest.approx(0.75)
    await driver.async_apply(InverterCommand(Mode.FORCE_DISCHARGE, until, 2.0))
    driver.advance(START + timedelta(hours=3))
    assert driver.soc_pct == pytest.approx(10.0)


async def test_hold_and_feed_in_first() -> None:
    driver = _driver(50.0, load=[1.0, 0.0], pv=[0.0, 4.0])
    until = START + timedelta(hours=1)
    await driver.async_apply(InverterCommand(Mode.HOLD, until))
    driver.advance(START + timedelta(minutes=30))
    assert driver.soc_pct == pytest.approx(50.0)
    await driver.async_apply(InverterCommand(Mode.FEED_IN_FIRST, until))
    driver.advance(START + timedelta(hours=1))
    # 4 kW of PV: 2 kW exported first, the rest into the battery.
    assert driver.soc_pct == pytest.approx(60.0)
    assert driver.totals.export_kwh == pytest.approx(1.0)


async def test_clock_drives_time_and_callable_series() -> None:
    now = [START]
    driver = SimulatedDriver(
        BATTERY,
        start=START,
        soc_pct=50.0,
        load_kw=lambda when: 2.0 if when.hour < 1 else 0.0,
        pv_kw=lambda when: -1.0,
        clock=lambda: now[0],
    )
    now[0] = START + timedelta(hours=1)
    state = await driver.async_read_state()
    assert state.soc_pct == pytest.approx(30.0)
    assert driver.now == now[0]
    with pytest.raises(InverterCommandError):
        await driver.async_apply(InverterCommand(Mode.FORCE_CHARGE, START, 1.0))
    assert await driver.async_ensure(
        InverterCommand(Mode.FORCE_CHARGE, now[0] + timedelta(hours=1), 1.0)
    )
    assert not await driver.async_ensure(
        InverterCommand(Mode.FORCE_CHARGE, now[0] + timedelta(hours=1), 1.0)
    )
    await driver.async_release()
    assert driver.command == SELF_USE
    assert driver.totals.writes == 2


async def test_command_ending_inside_a_step_stops_on_time() -> None:
    driver = _driver(50.0, load=[0.0], pv=[0.0])
    until = START + timedelta(seconds=90)
    await driver.async_apply(InverterCommand(Mode.FORCE_CHARGE, until, 2.4))
    driver.advance(START + timedelta(minutes=5))
    # 2.4 kW for 90 s only: 0.06 kWh.
    assert driver.totals.charge_kwh == pytest.approx(0.06)
