"""Tests of the control decisions that need no Home Assistant."""

from __future__ import annotations

from datetime import timedelta

import pytest

from custom_components.battery_optimizer.control.policy import (
    ControlSettings,
    async_drive,
    decide,
)
from custom_components.battery_optimizer.inverters.base import (
    MAX_COMMAND_DURATION,
    SELF_USE,
    InverterCommand,
    InverterUnavailableError,
    Reason,
)
from custom_components.battery_optimizer.optimizer.model import Mode

from ..conftest import NOW
from .fixtures import FIRST_END, FULL, NO_BACKUP, FakeInverter, make_plan

SETTINGS = ControlSettings(
    capacity_kwh=10.0,
    charge_limit_kw=5.0,
    discharge_limit_kw=5.0,
    efficiency=0.95,
    reserve_soc_pct=10.0,
    max_soc_pct=100.0,
    export_limit_kw=3.68,
    hysteresis_p=1.0,
)


def test_no_plan_or_a_finished_plan_means_self_use() -> None:
    """Without a slot that runs now there is nothing to force."""
    assert decide(None, NOW, 50.0, None, FULL, SETTINGS) == SELF_USE
    plan = make_plan([Mode.FORCE_CHARGE])
    assert decide(plan, FIRST_END, 50.0, None, FULL, SETTINGS) == SELF_USE


def test_a_long_run_is_capped() -> None:
    """A forced mode never asks for more than the longest command."""
    plan = make_plan([Mode.FORCE_CHARGE] * 60)
    command = decide(plan, NOW, 50.0, None, FULL, SETTINGS)
    assert command.until == NOW + MAX_COMMAND_DURATION


def test_unsupported_modes_rest_in_self_use() -> None:
    """Hold on an inverter without a back-up mode becomes Self Use."""
    plan = make_plan([Mode.HOLD, Mode.HOLD])
    assert decide(plan, NOW, 50.0, None, NO_BACKUP, SETTINGS) == SELF_USE


def test_an_expired_command_is_not_held() -> None:
    """Hysteresis never keeps a forced mode past its end."""
    plan = make_plan([Mode.SELF_USE, Mode.SELF_USE])
    held = InverterCommand(Mode.HOLD, NOW - timedelta(minutes=1))
    assert decide(plan, NOW, 50.0, held, FULL, SETTINGS) == SELF_USE


def test_a_large_gain_changes_the_mode() -> None:
    """Charging at 5p for use at 35p easily beats the threshold."""
    plan = make_plan([Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE])
    command = decide(plan, NOW, 50.0, SELF_USE, FULL, SETTINGS)
    assert command.mode is Mode.FORCE_CHARGE


def test_a_small_gain_keeps_the_mode() -> None:
    """Charging at 20p for energy worth 20p gains nothing: Self Use stays."""
    plan = make_plan(
        [Mode.FORCE_CHARGE, Mode.SELF_USE, Mode.SELF_USE], prices_p=[20.0] * 3
    )
    assert decide(plan, NOW, 50.0, SELF_USE, FULL, SETTINGS) == SELF_USE


async def test_an_unreadable_inverter_is_still_written() -> None:
    """A failed read is not a match: the command is written and verified."""
    fake = FakeInverter()
    reads = 0
    read_state = fake.async_read_state

    async def flaky_read() -> object:
        nonlocal reads
        reads += 1
        if reads == 1:
            raise InverterUnavailableError(Reason.CANNOT_CONNECT)
        return await read_state()

    fake.async_read_state = flaky_read  # type: ignore[method-assign,assignment]
    command = InverterCommand(Mode.HOLD, FIRST_END)
    outcome = await async_drive(fake, command)
    assert outcome.ok
    assert outcome.writes == 1
    assert fake.writes == [("apply", command)]


@pytest.mark.parametrize("reason", [Reason.UNAVAILABLE, Reason.ENTITY_MISSING])
async def test_an_inverter_not_there_yet_is_not_written(reason: Reason) -> None:
    """Entities that do not exist or read nothing yet (a restart) get no write."""
    fake = FakeInverter()

    async def not_there() -> object:
        raise InverterUnavailableError(reason)

    fake.async_read_state = not_there  # type: ignore[method-assign,assignment]
    outcome = await async_drive(fake, InverterCommand(Mode.HOLD, FIRST_END))
    assert not outcome.ok
    assert outcome.writes == 0
    assert fake.writes == []


async def test_a_driver_fault_of_any_kind_becomes_an_outcome() -> None:
    """A KeyError from a cloud reply must not escape into the control task."""
    fake = FakeInverter()
    fake.failures = [KeyError("result")]
    outcome = await async_drive(fake, InverterCommand(Mode.HOLD, FIRST_END))
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.reason is Reason.WRITE_FAILED
    assert "KeyError" in str(outcome.error)


async def test_a_failing_read_back_is_retried() -> None:
    """A write whose read-back fails is tried again, then reported."""
    fake = FakeInverter()
    fake.failures = [InverterUnavailableError(Reason.UNAVAILABLE)] * 2
    outcome = await async_drive(fake, InverterCommand(Mode.HOLD, FIRST_END))
    assert not outcome.ok
    assert outcome.writes == 2
    assert outcome.error is not None
    assert outcome.error.reason is Reason.UNAVAILABLE


def test_gains_of_every_mode_are_estimated() -> None:
    """Leaving a discharge, feed-in or charge is weighed against the plan's prices."""
    plan = make_plan([Mode.SELF_USE, Mode.FORCE_CHARGE, Mode.FORCE_DISCHARGE])
    held_modes = (
        InverterCommand(Mode.FORCE_DISCHARGE, FIRST_END, 2.5, 40.0),
        InverterCommand(Mode.FEED_IN_FIRST, FIRST_END),
        InverterCommand(Mode.FORCE_CHARGE, FIRST_END, 3.0, 60.0),
    )
    # The discharge sells at 20p energy the plan buys back at 5p, and the charge
    # stores at 20p what the plan sells at 35p: both beat Self Use and are kept.
    # Feed-in First without PV is Self Use, so switching gains nothing either.
    decided = [decide(plan, NOW, 50.0, held, FULL, SETTINGS) for held in held_modes]
    assert decided == list(held_modes)

    # Bought back at 30p, the discharge is no longer worth holding.
    dear = make_plan([Mode.SELF_USE, Mode.FORCE_CHARGE], prices_p=[20.0, 30.0])
    assert decide(dear, NOW, 50.0, held_modes[0], FULL, SETTINGS) == SELF_USE
