"""Reading other integrations' entities."""

from __future__ import annotations

import math

from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.util.unit_conversion import PowerConverter

from ..optimizer.model import DEFAULT_NOMINAL_VOLTAGE_V


def state_float(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """Numeric state of an entity; None when absent, unavailable or not a number."""
    if not entity_id or (state := hass.states.get(entity_id)) is None:
        return None
    if state.state in (STATE_UNAVAILABLE, STATE_UNKNOWN):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def state_power_kw(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """Power of an entity in kW, whatever unit it reports."""
    value = state_float(hass, entity_id)
    if value is None or entity_id is None:
        return None
    state = hass.states.get(entity_id)
    unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
    if unit not in PowerConverter.VALID_UNITS:
        # A power without a known unit would put a wrong figure in the plan.
        return None
    return PowerConverter.convert(value, unit, UnitOfPower.KILO_WATT)


def battery_voltage_v(hass: HomeAssistant, entity_id: str | None) -> float:
    """The battery voltage an entity reads, or the nominal one without a reading."""
    voltage = state_float(hass, entity_id)
    return voltage if voltage is not None and voltage > 0 else DEFAULT_NOMINAL_VOLTAGE_V
