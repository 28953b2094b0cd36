"""Binary sensors: charging recommended, and the problem summary."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.battery_optimizer.optimizer.model import Mode

from .conftest import FakeOctopus, entity_id, setup_entry, snapshot_entities, state_of


async def test_healthy_plan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Fresh SoC, full prices and an optimal plan: no problem; no charging at 36p."""
    result = init_integration.runtime_data.plan.data
    assert result.recommendation.mode is not Mode.FORCE_CHARGE
    assert state_of(hass, "binary_sensor", "charging_recommended").state == STATE_OFF
    problem = state_of(hass, "binary_sensor", "problem")
    assert problem.state == STATE_OFF
    assert problem.attributes["problems"] == []
    assert problem.attributes["device_class"] == "problem"


async def test_problem_is_a_diagnostic_entity(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    init_integration: MockConfigEntry,
) -> None:
    """The problem sensor sits with the diagnostics, the recommendation does not."""
    problem = entity_registry.async_get(entity_id(hass, "binary_sensor", "problem"))
    charging = entity_registry.async_get(
        entity_id(hass, "binary_sensor", "charging_recommended")
    )
    assert problem is not None
    assert charging is not None
    assert problem.entity_category is EntityCategory.DIAGNOSTIC
    assert charging.entity_category is None


async def test_charging_recommended_on_a_cheap_night(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
) -> None:
    """At 01:37 on a cheap Agile night the plan charges from the grid: on."""
    freezer.move_to(datetime(2022, 12, 28, 1, 37, tzinfo=UTC))
    await setup_entry(hass, mock_config_entry)

    result = mock_config_entry.runtime_data.plan.data
    assert result.plan is not None
    assert result.plan.slots[0].charge_kw > 0
    assert result.recommendation.mode is Mode.FORCE_CHARGE
    assert state_of(hass, "binary_sensor", "charging_recommended").state == STATE_ON


async def test_binary_sensor_snapshot(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Names, classes and states of the binary sensors."""
    with patch(
        "custom_components.battery_optimizer.PLATFORMS", [Platform.BINARY_SENSOR]
    ):
        await setup_entry(hass, mock_config_entry)
    await snapshot_entities(hass, entity_registry, snapshot, mock_config_entry.entry_id)
