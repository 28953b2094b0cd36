"""Diagnostics: settings without entity ids, the plan and the run history."""

from __future__ import annotations

# Diagnostics import the hassio component; imported under a frozen clock its
# models fail to build, so it is imported here, before any test freezes time.
from homeassistant.components import hassio  # noqa: F401
from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.battery_optimizer.const import (
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHEAP_THRESHOLD,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_REGION,
    CONF_SOC_ENTITY,
)

from .conftest import NOW, SOC_ENTITY


async def test_diagnostics(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    # After the entry: the access token must be issued at the frozen time.
    hass_client: ClientSessionGenerator,
) -> None:
    """Entity ids are redacted; settings, the plan and the history are there."""
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )

    data = diagnostics["data"]
    for key in (
        CONF_SOC_ENTITY,
        CONF_PV_POWER_ENTITY,
        CONF_LOAD_POWER_ENTITY,
        CONF_BATTERY_VOLTAGE_ENTITY,
    ):
        assert data[key] == REDACTED, key
    assert SOC_ENTITY not in str(diagnostics)
    assert data[CONF_REGION] == "C"
    assert data[CONF_CAPACITY_KWH] == 10.4
    assert diagnostics["options"][CONF_CHEAP_THRESHOLD] == 15.0
    plan = diagnostics["plan"]
    assert plan["status"] == "optimal"
    assert plan["generated_at"] == NOW.isoformat()
    assert len(plan["slots"]) == 97
    assert diagnostics["history"][-1]["time"] == NOW.isoformat()
