"""Tests of the Automatic control switch."""

from __future__ import annotations

from collections.abc import Iterator

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
)

from custom_components.battery_optimizer.coordinator import control_of
from custom_components.battery_optimizer.optimizer.model import Mode

from .conftest import ENTRY_ID, SLOT, FakeOctopus, setup_entry
from .control.fixtures import (
    CHARGE_KW,
    FIRST_END,
    RELEASE,
    FakeInverter,
    PlanFeed,
    driving,
    feeding,
    forced,
    make_plan,
)

SWITCH = "switch.battery_optimizer_london_automatic_control"
PLANNED = forced(Mode.FORCE_CHARGE, FIRST_END + SLOT, CHARGE_KW, 75.0)


@pytest.fixture
def fake() -> Iterator[FakeInverter]:
    """The entry drives a recording fake inverter, with a charge planned."""
    inverter = FakeInverter()
    plan = make_plan([Mode.FORCE_CHARGE, Mode.FORCE_CHARGE, Mode.SELF_USE])
    with feeding(PlanFeed(plan)), driving(inverter):
        yield inverter


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    fake: FakeInverter,
) -> MockConfigEntry:
    """The entry set up with its inverter."""
    await setup_entry(hass, mock_config_entry)
    return mock_config_entry


async def _turn(hass: HomeAssistant, service: str) -> None:
    await hass.services.async_call(
        "switch", service, {"entity_id": SWITCH}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)


def _state(hass: HomeAssistant) -> State:
    state = hass.states.get(SWITCH)
    assert state is not None
    return state


@pytest.mark.usefixtures("init_integration")
async def test_no_switch_without_an_inverter(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A recommend-only entry has nothing to switch."""
    entries = er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    assert entries
    assert [e.entity_id for e in entries if e.domain == "switch"] == []


async def test_off_by_default_then_on_and_off(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    fake: FakeInverter,
    entity_registry: er.EntityRegistry,
) -> None:
    """On applies the plan; off returns the forced mode it set to Self Use."""
    registered = entity_registry.async_get(SWITCH)
    assert registered is not None
    assert registered.unique_id == f"{ENTRY_ID}_automatic_control"
    assert registered.translation_key == "automatic_control"
    assert _state(hass).state == STATE_OFF
    assert _state(hass).attributes["manual_mode"] is None
    assert fake.calls == []

    await _turn(hass, "turn_on")
    assert _state(hass).state == STATE_ON
    assert fake.writes == [PLANNED]

    await _turn(hass, "turn_off")
    assert _state(hass).state == STATE_OFF
    assert fake.writes == [PLANNED, RELEASE]
    control = control_of(entry)
    assert control is not None
    assert not control.enabled


async def test_on_is_restored_after_a_restart(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    fake: FakeInverter,
) -> None:
    """A switch left on comes back on and drives the inverter without a click."""
    mock_restore_cache(hass, [State(SWITCH, STATE_ON)])
    await setup_entry(hass, mock_config_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _state(hass).state == STATE_ON
    assert fake.writes == [PLANNED]


async def test_off_is_restored_after_a_restart(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    fake: FakeInverter,
) -> None:
    """A switch left off stays off: the inverter is not touched."""
    mock_restore_cache(hass, [State(SWITCH, STATE_OFF)])
    await setup_entry(hass, mock_config_entry)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _state(hass).state == STATE_OFF
    assert fake.calls == []


async def test_the_switch_turns_off_while_planning_fails(
    hass: HomeAssistant, entry: MockConfigEntry, fake: FakeInverter
) -> None:
    """A failed re-plan must not make the way to stop control unavailable."""
    await _turn(hass, "turn_on")
    coordinator = entry.runtime_data.plan
    coordinator.async_set_update_error(UpdateFailed("solver exploded"))
    await hass.async_block_till_done()
    assert _state(hass).state == STATE_ON

    await _turn(hass, "turn_off")

    assert _state(hass).state == STATE_OFF
    assert fake.writes == [PLANNED, RELEASE]
