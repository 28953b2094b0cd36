"""Services: foxess_modbus's update_charge_period, and the stand-in's test hooks.

update_charge_period has the real schema and checks: periods 1 or 2, times
with zero seconds, an end that is not the start, and the other period read
from the cache (so it fails before the first poll). A write the inverter
refuses raises the client's error unchanged, as foxess_modbus does.
"""

from __future__ import annotations

from datetime import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import voluptuous as vol

from .const import (
    CHARGE_PERIOD_COUNT,
    DOMAIN,
    SERVICE_FAIL_POLLS,
    SERVICE_FAIL_WRITES,
    SERVICE_SET_SITE,
    SERVICE_UPDATE_CHARGE_PERIOD,
    period_register,
)
from .controller import (
    FAIL_UNTIL_CLEARED,
    WRITE_ERROR_HOME_ASSISTANT,
    WRITE_ERROR_MODBUS,
    Controller,
    Faults,
)

FAULTS: HassKey[Faults] = HassKey(f"{DOMAIN}_stand_in_faults")
IDENTIFIER_PARTS = 4
HOUR_SHIFT = 8


def faults(hass: HomeAssistant) -> Faults:
    """The failures injected into every stand-in inverter of this hass."""
    return hass.data.setdefault(FAULTS, Faults())


def _seconds_must_be_zero(value: time) -> time:
    if value.second != 0:
        raise vol.Invalid("Seconds component must be 0 if specified")
    return value


def _start_end_if_enabled(data: dict[str, Any]) -> dict[str, Any]:
    if data["enable_force_charge"]:
        for key in ("start", "end"):
            if key not in data:
                raise vol.Invalid(
                    f"'{key}' must be specified if 'enable_force_charge' is True",
                    path=[key],
                )
        start, end = data["start"], data["end"]
        if (start.hour, start.minute) == (end.hour, end.minute):
            raise vol.Invalid("'end' must not be the same as 'start'", path=["end"])
    return data


UPDATE_CHARGE_PERIOD_SCHEMA = vol.Schema(
    vol.All(
        {
            vol.Required("inverter"): vol.Any(cv.string, None),
            vol.Required("charge_period"): vol.All(
                vol.Coerce(int), vol.Range(min=1, max=CHARGE_PERIOD_COUNT)
            ),
            vol.Required("enable_force_charge"): cv.boolean,
            vol.Required("enable_charge_from_grid"): cv.boolean,
            vol.Optional("start"): vol.All(cv.time, _seconds_must_be_zero),
            vol.Optional("end"): vol.All(cv.time, _seconds_must_be_zero),
        },
        _start_end_if_enabled,
    )
)
FAIL_WRITES_SCHEMA = vol.Schema(
    {
        vol.Optional("count", default=FAIL_UNTIL_CLEARED): vol.All(
            vol.Coerce(int), vol.Range(min=FAIL_UNTIL_CLEARED)
        ),
        vol.Optional("error", default=WRITE_ERROR_MODBUS): vol.In(
            [WRITE_ERROR_MODBUS, WRITE_ERROR_HOME_ASSISTANT]
        ),
    }
)
FAIL_POLLS_SCHEMA = vol.Schema(
    {
        vol.Optional("count", default=FAIL_UNTIL_CLEARED): vol.All(
            vol.Coerce(int), vol.Range(min=FAIL_UNTIL_CLEARED)
        )
    }
)
SET_SITE_SCHEMA = vol.Schema(
    {
        vol.Optional("soc"): vol.All(vol.Coerce(float), vol.Range(min=0, max=100)),
        vol.Optional("load_kw"): vol.All(vol.Coerce(float), vol.Range(min=0)),
        vol.Optional("pv_kw"): vol.All(vol.Coerce(float), vol.Range(min=0)),
    }
)


def _controllers(hass: HomeAssistant) -> list[Controller]:
    return [
        entry.runtime_data
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    ]


def _controller(hass: HomeAssistant, inverter: str | None) -> Controller:
    """The inverter named by device id or friendly name, as foxess_modbus finds it."""
    controllers = _controllers(hass)
    if not controllers:
        raise HomeAssistantError("No inverters configured in FoxESS - Modbus")
    friendly_name = inverter or ""
    device = dr.async_get(hass).async_get(friendly_name)
    if device is not None:
        parts = next(iter(device.identifiers))
        if len(parts) < IDENTIFIER_PARTS or parts[0] != DOMAIN:
            raise HomeAssistantError(
                f"Device with ID '{inverter}' is not an inverter from the foxess_modbus integration"
            )
        friendly_name = parts[3]  # type: ignore[misc]
    for controller in controllers:
        if controller.details.friendly_name == friendly_name:
            return controller
    names = ", ".join(f"'{c.details.friendly_name}'" for c in controllers)
    raise HomeAssistantError(
        f"Unable to find an inverter with the device ID or friendly name "
        f"'{friendly_name}'. Valid friendly names: {names}"
    )


def _serialize(value: time) -> int:
    return (value.hour << HOUR_SHIFT) | value.minute


async def _async_update_charge_period(call: ServiceCall) -> None:
    controller = _controller(call.hass, call.data["inverter"])
    period = call.data["charge_period"]
    if not controller.details.profile.charge_periods:
        raise HomeAssistantError(
            f"Inverter does not support setting charge period {period}"
        )
    writes: dict[str, float] = {}
    for other in range(1, CHARGE_PERIOD_COUNT + 1):
        if other == period:
            continue
        for part in ("start", "end", "from_grid"):
            value = controller.read(period_register(other, part))
            if value is None:
                raise HomeAssistantError(
                    f"Data for charge period {other} is not available. "
                    "Please try again in a few seconds"
                )
            writes[period_register(other, part)] = value
    enabled = call.data["enable_force_charge"]
    midnight = time(0, 0)
    writes[period_register(period, "start")] = (
        _serialize(call.data.get("start", midnight)) if enabled else 0
    )
    writes[period_register(period, "end")] = (
        _serialize(call.data.get("end", midnight)) if enabled else 0
    )
    writes[period_register(period, "from_grid")] = (
        1 if call.data["enable_charge_from_grid"] else 0
    )
    await controller.write_registers(writes)


async def _async_fail_writes(call: ServiceCall) -> None:
    injected = faults(call.hass)
    injected.writes = call.data["count"]
    injected.write_error = call.data["error"]


async def _async_fail_polls(call: ServiceCall) -> None:
    faults(call.hass).polls = call.data["count"]


async def _async_set_site(call: ServiceCall) -> None:
    now = dt_util.utcnow()
    for controller in _controllers(call.hass):
        hardware = controller.hardware
        hardware.advance(now)
        hardware.soc_pct = call.data.get("soc", hardware.soc_pct)
        hardware.load_kw = call.data.get("load_kw", hardware.load_kw)
        hardware.pv_kw = call.data.get("pv_kw", hardware.pv_kw)
        await controller.async_save()


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services once for every entry."""
    for name, handler, schema in (
        (
            SERVICE_UPDATE_CHARGE_PERIOD,
            _async_update_charge_period,
            UPDATE_CHARGE_PERIOD_SCHEMA,
        ),
        (SERVICE_FAIL_WRITES, _async_fail_writes, FAIL_WRITES_SCHEMA),
        (SERVICE_FAIL_POLLS, _async_fail_polls, FAIL_POLLS_SCHEMA),
        (SERVICE_SET_SITE, _async_set_site, SET_SITE_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, name, handler, schema)
