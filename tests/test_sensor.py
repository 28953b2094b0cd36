"""Sensors: every figure matches the plan, prices and the user's thresholds."""

from __future__ import annotations

import dataclasses
from datetime import datetime
import json
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.battery_optimizer.plan.result import PlanResult
from custom_components.battery_optimizer.sensor import (
    MAX_STATE_LENGTH,
    price_level,
)

from .conftest import (
    AGILE_EXPORT,
    AGILE_IMPORT,
    CHEAP_P_PER_KWH,
    NOW,
    FakeOctopus,
    setup_entry,
    snapshot_entities,
    state_of,
)

# Some diagnostic sensors start disabled; these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

UNITS = {
    "recommended_charge_current": "A",
    "recommended_battery_power": "kW",
    "target_soc": "%",
    "import_price": "p/kWh",
    "export_price": "p/kWh",
    "plan_cost": "GBP",
    "savings_vs_no_battery": "GBP",
    "savings_vs_rules": "GBP",
    "stored_energy_value": "p/kWh",
    "solve_time": "ms",
    "price_coverage": "%",
}
# Recorder limit on the attributes of one state.
MAX_RECORDED_ATTRIBUTES_BYTES = 16 * 1024


def _result(entry: MockConfigEntry) -> PlanResult:
    result: PlanResult = entry.runtime_data.plan.data
    return result


async def test_recommendation_sensors_follow_the_first_slot(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Mode, current, power, target SoC and reason come from the slot running now."""
    result = _result(init_integration)
    assert result.plan is not None
    first = result.plan.slots[0]
    assert result.current_slot is first
    assert state_of(hass, "sensor", "recommended_mode").state == first.mode.value
    current = state_of(hass, "sensor", "recommended_charge_current")
    assert float(current.state) == pytest.approx(first.charge_current_a)
    power = state_of(hass, "sensor", "recommended_battery_power")
    assert float(power.state) == pytest.approx(first.battery_kw, abs=1e-3)
    assert state_of(hass, "sensor", "reason").state == first.reason
    # The target is where the SoC stands when the current mode ends.
    change = next(s for s in result.plan.slots if s.mode is not first.mode)
    before_change = result.plan.slots[result.plan.slots.index(change) - 1]
    target = state_of(hass, "sensor", "target_soc")
    assert float(target.state) == pytest.approx(before_change.soc_end_pct, abs=0.05)


async def test_price_sensors_show_the_current_half_hour(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Prices are the fixture's for 10:00-10:30; 35.98p is above the 30p threshold."""
    import_now = next(r for r in AGILE_IMPORT if r.start <= NOW < r.end)
    export_now = next(r for r in AGILE_EXPORT if r.start <= NOW < r.end)
    assert float(state_of(hass, "sensor", "import_price").state) == pytest.approx(
        import_now.price_p_per_kwh
    )
    assert float(state_of(hass, "sensor", "export_price").state) == pytest.approx(
        export_now.price_p_per_kwh
    )
    assert import_now.price_p_per_kwh == pytest.approx(35.98)
    assert state_of(hass, "sensor", "price_level").state == "expensive"


async def test_next_cheap_window_is_the_first_cheap_half_hour(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The window starts at the first fixture price at or below the threshold."""
    expected = next(
        r.start
        for r in AGILE_IMPORT
        if r.end > NOW and r.price_p_per_kwh <= CHEAP_P_PER_KWH
    )
    state = state_of(hass, "sensor", "next_cheap_window")
    assert datetime.fromisoformat(state.state) == expected


@pytest.mark.parametrize(
    ("price", "level"),
    [
        (-0.5, "negative"),
        (0.0, "cheap"),
        (15.0, "cheap"),
        (15.01, "normal"),
        (29.99, "normal"),
        (30.0, "expensive"),
        (None, None),
    ],
)
async def test_price_level_thresholds(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    price: float | None,
    level: str | None,
) -> None:
    """Negative below 0, cheap to 15p, expensive from 30p, normal between."""
    result = dataclasses.replace(_result(init_integration), import_price_now=price)
    assert price_level(result) == level


async def test_money_sensors_in_pounds(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Cost and savings are the plan's KPIs in pence, shown in GBP."""
    kpis = _result(init_integration).kpis
    assert kpis is not None
    expected = {
        "plan_cost": kpis.cost_p,
        "savings_vs_no_battery": kpis.savings_vs_no_battery_p,
        "savings_vs_rules": kpis.savings_vs_rules_p,
    }
    for key, pence in expected.items():
        state = state_of(hass, "sensor", key)
        assert float(state.state) == pytest.approx(pence / 100, abs=0.005), key
        assert state.attributes["device_class"] == "monetary"


async def test_diagnostic_sensors(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Solver status, plan time and coverage describe the latest run."""
    result = _result(init_integration)
    assert result.plan is not None
    assert state_of(hass, "sensor", "solver_status").state == "optimal"
    assert state_of(hass, "sensor", "last_plan").state == NOW.isoformat()
    assert float(state_of(hass, "sensor", "solve_time").state) == pytest.approx(
        round(result.plan.solve_ms, 1)
    )
    stored = state_of(hass, "sensor", "stored_energy_value")
    assert result.plan.stored_energy_value_p_per_kwh is not None
    assert float(stored.state) == pytest.approx(
        result.plan.stored_energy_value_p_per_kwh, abs=0.005
    )
    coverage = state_of(hass, "sensor", "price_coverage")
    assert coverage.state == "100.0"
    assert coverage.attributes["next_12_hours"] == 100.0


async def test_every_numeric_sensor_has_its_unit(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Each figure carries the unit a user reads it in."""
    for key, unit in UNITS.items():
        state = state_of(hass, "sensor", key)
        assert state.attributes.get("unit_of_measurement") == unit, key
        float(state.state)


async def test_plan_series_attribute(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The mode sensor carries the plan for charts, and the recorder skips it."""
    result = _result(init_integration)
    assert result.plan is not None
    series = state_of(hass, "sensor", "recommended_mode").attributes["plan"]
    assert len(series) == len(result.plan.slots) == 97
    for point, slot in zip(series, result.plan.slots, strict=True):
        assert set(point) == {
            "start",
            "import_price",
            "export_price",
            "soc",
            "power",
            "mode",
        }
        assert point["start"] == slot.start.isoformat()
        assert point["import_price"] == pytest.approx(
            slot.import_price_p_per_kwh, abs=0.005
        )
        assert point["soc"] == pytest.approx(slot.soc_end_pct, abs=0.05)
        assert point["mode"] == slot.mode.value
    assert series[0]["start"] == NOW.isoformat()
    # What the recorder reads off the state: the plan series is not stored.
    state_info = state_of(hass, "sensor", "recommended_mode").state_info
    assert state_info is not None
    assert "plan" in state_info["unrecorded_attributes"]
    # Whatever else is recorded stays far below the recorder's limit.
    for key in ("price_coverage", "recommended_mode"):
        attributes = dict(state_of(hass, "sensor", key).attributes)
        attributes.pop("plan", None)
        assert len(json.dumps(attributes)) < MAX_RECORDED_ATTRIBUTES_BYTES


async def test_long_reason_is_cut_to_a_valid_state(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A reason longer than HA allows in a state is shortened, not rejected."""
    coordinator = init_integration.runtime_data.plan
    result = coordinator.data
    long_reason = dataclasses.replace(result.recommendation, reason="x" * 400)
    coordinator.async_set_updated_data(
        dataclasses.replace(result, recommendation=long_reason)
    )
    await hass.async_block_till_done()

    assert state_of(hass, "sensor", "reason").state == "x" * MAX_STATE_LENGTH


async def test_sensor_snapshot(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    octopus: FakeOctopus,
    inverter_states: None,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Names, units, categories and states of all sensors."""
    with patch("custom_components.battery_optimizer.PLATFORMS", [Platform.SENSOR]):
        await setup_entry(hass, mock_config_entry)
    await snapshot_entities(hass, entity_registry, snapshot, mock_config_entry.entry_id)
