"""Reading other integrations' entities."""

from __future__ import annotations

import math

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant


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
