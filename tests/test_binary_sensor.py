"""Binary sensors: charging recommended, and the problem summary."""

from __future__ import annotations

import dataclasses
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
from custom_components.battery_optimizer.plan.result import Recommendation

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


async def test_charging_recommended_follows_the_mode(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The sensor turns on exactly when the recommendation is force charge."""
    coordinator = init_integration.runtime_data.plan
    planned = coordinator.data
    for mode in Mode:
        recommendation = Recommendation(mode, 10.0, 0.5, 80.0, "test")
        coordinator.async_set_updated_data(
            dataclasses.replace(planned, recommendation=recommendation)
        )
        await hass.async_block_till_done()
        expected = STATE_ON if mode is Mode.FORCE_CHARGE else STATE_OFF
        state = state_of(hass, "binary_sensor", "charging_recommended").state
        assert state == expected, mode


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
