"""A stand-in for the foxess_modbus integration, for tests and the demo.

It registers the device and entities foxess_modbus creates for a Fox ESS
inverter (same entity ids, unique ids, options, ranges and units), updates
them on its poll, keeps remote control in memory with foxess_modbus's
watchdog and fallback work modes, and runs a simulated inverter and battery
whose registers outlive a Home Assistant restart. See ../../README.md.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_IMPORT, ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    CONF_BATTERY_VOLTAGE,
    CONF_CAPACITY_KWH,
    CONF_ECHO_WRITES,
    CONF_EFFICIENCY,
    CONF_ENTITY_ID_PREFIX,
    CONF_FIRST_POLL_DELAY,
    CONF_FRIENDLY_NAME,
    CONF_INVERTER_POWER_W,
    CONF_LOAD_KW,
    CONF_MODEL,
    CONF_POLL_RATE,
    CONF_PV_KW,
    CONF_SOC,
    CONF_UNIQUE_ID_PREFIX,
    DEFAULT_BATTERY_VOLTAGE,
    DEFAULT_CAPACITY_KWH,
    DEFAULT_EFFICIENCY,
    DEFAULT_INVERTER_POWER_W,
    DEFAULT_LOAD_KW,
    DEFAULT_MODEL,
    DEFAULT_POLL_RATE_S,
    DEFAULT_SOC,
    DOMAIN,
    MODELS,
)
from .controller import Controller, InverterDetails
from .hardware import Hardware, Site
from .services import async_setup_services, faults

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SELECT, Platform.NUMBER]
STORAGE_VERSION = 1

type StandInConfigEntry = ConfigEntry[Controller]

_POSITIVE = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False))
OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_MODEL, default=DEFAULT_MODEL): vol.In(list(MODELS)),
        vol.Optional(CONF_POLL_RATE, default=DEFAULT_POLL_RATE_S): _POSITIVE,
        vol.Optional(CONF_FIRST_POLL_DELAY): vol.All(
            vol.Coerce(float), vol.Range(min=0)
        ),
        vol.Optional(CONF_FRIENDLY_NAME, default=""): str,
        vol.Optional(CONF_ENTITY_ID_PREFIX, default=""): str,
        vol.Optional(CONF_UNIQUE_ID_PREFIX, default=""): str,
        vol.Optional(CONF_ECHO_WRITES, default=True): bool,
        vol.Optional(CONF_CAPACITY_KWH, default=DEFAULT_CAPACITY_KWH): _POSITIVE,
        vol.Optional(
            CONF_INVERTER_POWER_W, default=DEFAULT_INVERTER_POWER_W
        ): _POSITIVE,
        vol.Optional(CONF_BATTERY_VOLTAGE, default=DEFAULT_BATTERY_VOLTAGE): _POSITIVE,
        vol.Optional(CONF_EFFICIENCY, default=DEFAULT_EFFICIENCY): vol.All(
            vol.Coerce(float), vol.Range(min=0.5, max=1)
        ),
        vol.Optional(CONF_SOC, default=DEFAULT_SOC): vol.All(
            vol.Coerce(float), vol.Range(min=0, max=100)
        ),
        vol.Optional(CONF_LOAD_KW, default=DEFAULT_LOAD_KW): vol.All(
            vol.Coerce(float), vol.Range(min=0)
        ),
        vol.Optional(CONF_PV_KW, default=0.0): vol.All(
            vol.Coerce(float), vol.Range(min=0)
        ),
    }
)
CONFIG_SCHEMA = vol.Schema(
    {vol.Optional(DOMAIN): OPTIONS_SCHEMA}, extra=vol.ALLOW_EXTRA
)


def entry_options(entry: ConfigEntry) -> dict[str, Any]:
    """The entry's data and options, with every default filled in."""
    options: dict[str, Any] = OPTIONS_SCHEMA({**entry.data, **entry.options})
    return options


def store_for(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry's inverter keeps its registers and battery."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}_stand_in.{entry_id}")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services; import a YAML `foxess_modbus:` block as an entry."""
    async_setup_services(hass)
    if DOMAIN in config:
        hass.async_create_task(
            hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_IMPORT}, data=dict(config[DOMAIN])
            )
        )
    return True


def _hardware(options: Mapping[str, Any], stored: dict[str, Any] | None) -> Hardware:
    site = Site(
        capacity_kwh=options[CONF_CAPACITY_KWH],
        battery_voltage=options[CONF_BATTERY_VOLTAGE],
        inverter_power_w=options[CONF_INVERTER_POWER_W],
        efficiency=options[CONF_EFFICIENCY],
    )
    profile = MODELS[options[CONF_MODEL]]
    if stored is not None:
        return Hardware.from_dict(site, profile, stored)
    return Hardware.new(
        site,
        profile,
        soc_pct=options[CONF_SOC],
        load_kw=options[CONF_LOAD_KW],
        pv_kw=options[CONF_PV_KW],
        now=dt_util.utcnow(),
    )


async def async_setup_entry(hass: HomeAssistant, entry: StandInConfigEntry) -> bool:
    """Connect to the inverter as it was left, with remote control forgotten."""
    options = entry_options(entry)
    store = store_for(hass, entry.entry_id)
    hardware = _hardware(options, await store.async_load())
    poll_rate = options[CONF_POLL_RATE]
    details = InverterDetails(
        profile=hardware.profile,
        friendly_name=options[CONF_FRIENDLY_NAME],
        entity_id_prefix=options[CONF_ENTITY_ID_PREFIX],
        unique_id_prefix=options[CONF_UNIQUE_ID_PREFIX],
        poll_rate_s=poll_rate,
        first_poll_delay_s=options.get(CONF_FIRST_POLL_DELAY, poll_rate),
        echo_writes=options[CONF_ECHO_WRITES],
    )
    controller = Controller(hass, hardware, details, store, faults(hass))
    entry.runtime_data = controller
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    controller.start()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: StandInConfigEntry) -> bool:
    """Stop polling; like foxess_modbus, leave the inverter as it is."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_stop()
    return unloaded
