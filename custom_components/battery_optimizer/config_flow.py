"""Config, reconfigure and options flows for Battery Optimizer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
import logging
import math
from typing import TYPE_CHECKING, Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import (
    PERCENTAGE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import (
    CONF_API_KEY,
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_CHEAP_THRESHOLD,
    CONF_CYCLE_COST,
    CONF_DAILY_LOAD_KWH,
    CONF_DEVICE_SERIAL,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_END_VALUE_PCT,
    CONF_EV_POWER_ENTITY,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE,
    CONF_EXPORT_RATE_ENTITIES,
    CONF_EXPORT_TYPE,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_FOXESS_DEVICE,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_HORIZON_HOURS,
    CONF_HYSTERESIS_P,
    CONF_IMPORT_PRODUCT,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_MANUAL_PRODUCT,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_MIN_SOC_ON_GRID_ENTITY,
    CONF_PRICE_SOURCE,
    CONF_PV_ESTIMATE,
    CONF_PV_POWER_ENTITY,
    CONF_PV_SOURCE,
    CONF_RATE_ENTITIES,
    CONF_REGION,
    CONF_REPLAN_MINUTES,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    CONF_WORK_MODE_ENTITY,
    DEFAULT_CAPACITY_KWH,
    DEFAULT_CHARGE_LIMIT_KW,
    DEFAULT_CHEAP_THRESHOLD,
    DEFAULT_CYCLE_COST,
    DEFAULT_DAILY_LOAD_KWH,
    DEFAULT_DISCHARGE_LIMIT_KW,
    DEFAULT_EFFICIENCY_PCT,
    DEFAULT_END_VALUE_PCT,
    DEFAULT_EXPENSIVE_THRESHOLD,
    DEFAULT_EXPORT_LIMIT_KW,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_HYSTERESIS_P,
    DEFAULT_MAX_SOC_PCT,
    DEFAULT_PV_ESTIMATE,
    DEFAULT_REPLAN_MINUTES,
    DEFAULT_RESERVE_SOC_PCT,
    DOMAIN,
    EXPORT_AGILE,
    EXPORT_FIXED,
    EXPORT_NONE,
    EXPORT_TYPES,
    INVERTER_FOX_CLOUD,
    INVERTER_FOXESS_MODBUS,
    INVERTER_NONE,
    INVERTER_TYPES,
    MAX_HORIZON_HOURS,
    PRICE_SOURCE_OCTOPUS,
    PRICE_SOURCE_OCTOPUS_ENERGY,
    PRICE_SOURCES,
    PV_ESTIMATES,
    PV_SOURCE_NONE,
    PV_SOURCES,
    REGIONS,
    SECTION_ADVANCED,
)
from .inverters.base import InverterError, Reason
from .inverters.factory import async_validate_fox_cloud, foxess_entities_from_data
from .inverters.foxess_modbus import FOXESS_MODBUS_DOMAIN

if TYPE_CHECKING:
    from .coordinator import BatteryOptimizerConfigEntry
from .tariffs.octopus import (
    OctopusClient,
    OctopusConnectionError,
    OctopusNotFoundError,
    OctopusResponseError,
)
from .tariffs.octopus_energy import (
    OctopusEnergyEntitiesClient,
    OctopusEnergyNoRatesError,
    find_rate_entities,
)
from .tariffs.prices import PriceClient

_LOGGER = logging.getLogger(__name__)

PRICE_UNIT = "p/kWh"
# Octopus Outgoing Fixed pays 15 p/kWh; most fixed-export users start from there.
DEFAULT_EXPORT_RATE_P_PER_KWH = 15.0
MIN_HORIZON_HOURS = 12
MAX_REPLAN_MINUTES = 60
# The current half-hour always has a published Agile price, so an hour either
# side of now proves that the product and region resolve to real prices.
PRICE_TEST_MARGIN = timedelta(hours=1)
FOXESS_ENTITY_FIELDS = (
    CONF_WORK_MODE_ENTITY,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FORCE_DISCHARGE_POWER_ENTITY,
    CONF_MAX_CHARGE_CURRENT_ENTITY,
    CONF_MIN_SOC_ON_GRID_ENTITY,
)
# Fox Cloud failures by the form error they show, and the field it belongs to.
FOX_CLOUD_ERRORS: dict[Reason, tuple[str, str]] = {
    Reason.INVALID_AUTH: (CONF_API_KEY, "invalid_auth"),
    Reason.UNKNOWN_SERIAL: (CONF_DEVICE_SERIAL, "unknown_serial"),
    Reason.CANNOT_CONNECT: ("base", "fox_cannot_connect"),
    Reason.RATE_LIMITED: ("base", "fox_rate_limited"),
    Reason.BACKING_OFF: ("base", "fox_rate_limited"),
    Reason.DAILY_BUDGET: ("base", "fox_rate_limited"),
    Reason.QUOTA_EXHAUSTED: ("base", "fox_rate_limited"),
}
_OPTIONAL_SENSORS = (
    CONF_PV_POWER_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_BATTERY_VOLTAGE_ENTITY,
)


class NoPricesError(Exception):
    """The Octopus API answered but published no prices for the test window."""


class NoExportProductError(Exception):
    """Octopus lists no Agile Outgoing product to read export prices from."""


class NoExportMeterError(Exception):
    """The Octopus Energy integration shows no export meter to read prices from."""


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


def _sensor(device_class: SensorDeviceClass) -> EntitySelector:
    return EntitySelector(
        EntitySelectorConfig(domain=Platform.SENSOR, device_class=device_class)
    )


def tariff_schema(choose_source: bool = False) -> vol.Schema:
    """Return the tariff form; the manual product code sits in a folded section."""
    fields: dict[vol.Marker, Any] = {}
    if choose_source:
        # The integration's entities already hold the prices: reading them saves
        # polling the API a second time.
        fields[vol.Required(CONF_PRICE_SOURCE, default=PRICE_SOURCE_OCTOPUS_ENERGY)] = (
            SelectSelector(
                SelectSelectorConfig(
                    options=list(PRICE_SOURCES),
                    translation_key=CONF_PRICE_SOURCE,
                    mode=SelectSelectorMode.LIST,
                )
            )
        )
    fields |= {
        vol.Required(CONF_REGION): SelectSelector(
            SelectSelectorConfig(
                options=[
                    SelectOptionDict(value=code, label=f"{code} - {name}")
                    for code, name in REGIONS.items()
                ],
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        # No export is the safe default: assuming an export tariff the user does
        # not have would make the plan discharge to the grid for nothing.
        vol.Required(CONF_EXPORT_TYPE, default=EXPORT_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(EXPORT_TYPES),
                translation_key=CONF_EXPORT_TYPE,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
    # Only users on an older Agile version need it, so it starts folded away.
    fields[vol.Optional(SECTION_ADVANCED)] = section(
        vol.Schema({vol.Optional(CONF_IMPORT_PRODUCT): TextSelector()}),
        {"collapsed": True},
    )
    return vol.Schema(fields)


def manual_product(user_input: Mapping[str, Any]) -> str:
    """The product code typed in the advanced section, normalised; empty if none."""
    advanced: Mapping[str, Any] = user_input.get(SECTION_ADVANCED) or {}
    code: str = advanced.get(CONF_IMPORT_PRODUCT) or ""
    return code.strip().upper()


def tariff_suggestions(data: Mapping[str, Any]) -> dict[str, Any]:
    """Values to prefill the tariff form with, the product code inside its section."""
    if SECTION_ADVANCED in data:
        return dict(data)
    # A discovered product is not shown: prefilled, it would pin an entry to it
    # when a reconfigure should find the newest Agile product again.
    advanced = (
        {CONF_IMPORT_PRODUCT: data[CONF_IMPORT_PRODUCT]}
        if data.get(CONF_MANUAL_PRODUCT)
        else {}
    )
    return {**data, SECTION_ADVANCED: advanced}


EXPORT_RATE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_EXPORT_RATE, default=DEFAULT_EXPORT_RATE_P_PER_KWH): _number(
            0, 100, 0.01, PRICE_UNIT
        ),
    }
)

BATTERY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_SOC_ENTITY): _sensor(SensorDeviceClass.BATTERY),
        vol.Optional(CONF_PV_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_LOAD_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_BATTERY_VOLTAGE_ENTITY): _sensor(SensorDeviceClass.VOLTAGE),
        vol.Required(CONF_CAPACITY_KWH, default=DEFAULT_CAPACITY_KWH): _number(
            0.5, 200, 0.1, UnitOfEnergy.KILO_WATT_HOUR
        ),
        vol.Required(CONF_CHARGE_LIMIT_KW, default=DEFAULT_CHARGE_LIMIT_KW): _number(
            0.1, 50, 0.1, UnitOfPower.KILO_WATT
        ),
        vol.Required(
            CONF_DISCHARGE_LIMIT_KW, default=DEFAULT_DISCHARGE_LIMIT_KW
        ): _number(0.1, 50, 0.1, UnitOfPower.KILO_WATT),
        vol.Required(CONF_EFFICIENCY_PCT, default=DEFAULT_EFFICIENCY_PCT): _number(
            50, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_RESERVE_SOC_PCT, default=DEFAULT_RESERVE_SOC_PCT): _number(
            0, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_MAX_SOC_PCT, default=DEFAULT_MAX_SOC_PCT): _number(
            1, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_EXPORT_LIMIT_KW, default=DEFAULT_EXPORT_LIMIT_KW): _number(
            0, 50, 0.01, UnitOfPower.KILO_WATT
        ),
    }
)

INVERTER_SCHEMA = vol.Schema(
    {
        # Recommending only is the safe default: nothing is written unasked.
        vol.Required(CONF_INVERTER, default=INVERTER_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(INVERTER_TYPES),
                translation_key=CONF_INVERTER,
                mode=SelectSelectorMode.LIST,
            )
        ),
    }
)


def _entity(domain: str) -> EntitySelector:
    return EntitySelector(EntitySelectorConfig(domain=domain))


FOXESS_MODBUS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_FOXESS_DEVICE): DeviceSelector(
            DeviceSelectorConfig(integration=FOXESS_MODBUS_DOMAIN)
        ),
        vol.Optional(CONF_WORK_MODE_ENTITY): _entity(Platform.SELECT),
        vol.Optional(CONF_FORCE_CHARGE_POWER_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_FORCE_DISCHARGE_POWER_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_MAX_CHARGE_CURRENT_ENTITY): _entity(Platform.NUMBER),
        vol.Optional(CONF_MIN_SOC_ON_GRID_ENTITY): _entity(Platform.NUMBER),
    }
)

FOX_CLOUD_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
        vol.Required(CONF_DEVICE_SERIAL): TextSelector(),
    }
)

REAUTH_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_API_KEY): TextSelector(
            TextSelectorConfig(type=TextSelectorType.PASSWORD)
        ),
    }
)

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_HORIZON_HOURS, default=DEFAULT_HORIZON_HOURS): _number(
            MIN_HORIZON_HOURS, MAX_HORIZON_HOURS, 1, UnitOfTime.HOURS
        ),
        vol.Required(CONF_REPLAN_MINUTES, default=DEFAULT_REPLAN_MINUTES): _number(
            1, MAX_REPLAN_MINUTES, 1, UnitOfTime.MINUTES
        ),
        vol.Required(CONF_CYCLE_COST, default=DEFAULT_CYCLE_COST): _number(
            0, 50, 0.1, PRICE_UNIT
        ),
        # Agile prices go negative in windy nights, so thresholds may too.
        vol.Required(CONF_CHEAP_THRESHOLD, default=DEFAULT_CHEAP_THRESHOLD): _number(
            -50, 150, 0.1, PRICE_UNIT
        ),
        vol.Required(
            CONF_EXPENSIVE_THRESHOLD, default=DEFAULT_EXPENSIVE_THRESHOLD
        ): _number(-50, 150, 0.1, PRICE_UNIT),
        vol.Required(CONF_END_VALUE_PCT, default=DEFAULT_END_VALUE_PCT): _number(
            0, 100, 1, PERCENTAGE
        ),
        vol.Required(CONF_DAILY_LOAD_KWH, default=DEFAULT_DAILY_LOAD_KWH): _number(
            0, 200, 0.1, UnitOfEnergy.KILO_WATT_HOUR
        ),
        vol.Required(CONF_HYSTERESIS_P, default=DEFAULT_HYSTERESIS_P): _number(
            0, 50, 0.1, "p"
        ),
        vol.Required(CONF_PV_SOURCE, default=PV_SOURCE_NONE): SelectSelector(
            SelectSelectorConfig(
                options=list(PV_SOURCES),
                translation_key=CONF_PV_SOURCE,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Required(CONF_PV_ESTIMATE, default=DEFAULT_PV_ESTIMATE): SelectSelector(
            SelectSelectorConfig(
                options=list(PV_ESTIMATES),
                translation_key=CONF_PV_ESTIMATE,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(CONF_EV_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Optional(CONF_GRID_IMPORT_ENERGY_ENTITY): _sensor(SensorDeviceClass.ENERGY),
        vol.Optional(CONF_GRID_EXPORT_ENERGY_ENTITY): _sensor(SensorDeviceClass.ENERGY),
    }
)


def battery_unique_id(hass: HomeAssistant, soc_entity_id: str) -> str:
    """The entry's unique id: the state of charge sensor's registry id.

    It stays the same when the user renames the sensor; a sensor without a
    registry entry has nothing steadier than its entity id.
    """
    registered = er.async_get(hass).async_get(soc_entity_id)
    return registered.id if registered is not None else soc_entity_id


def entry_title(region: str) -> str:
    """Return the default entry title for an Agile region."""
    return f"Battery Optimizer ({REGIONS[region]})"


def _is_number(state: str) -> bool:
    try:
        return math.isfinite(float(state))
    except ValueError:
        return False


def validate_battery(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Return form errors for the battery step; empty when the input is usable."""
    errors: dict[str, str] = {}
    soc = hass.states.get(user_input[CONF_SOC_ENTITY])
    if soc is None:
        errors[CONF_SOC_ENTITY] = "entity_not_found"
    elif not _is_number(soc.state):
        errors[CONF_SOC_ENTITY] = "soc_not_numeric"
    for key in _OPTIONAL_SENSORS:
        if (entity_id := user_input.get(key)) is None:
            continue
        state = hass.states.get(entity_id)
        if state is None:
            errors[key] = "entity_not_found"
        # Power sensors often read unavailable at night or while the inverter
        # reconnects; that must not block setup.
        elif state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN) and not _is_number(
            state.state
        ):
            errors[key] = "not_numeric"
    if user_input[CONF_RESERVE_SOC_PCT] >= user_input[CONF_MAX_SOC_PCT]:
        errors[CONF_RESERVE_SOC_PCT] = "reserve_above_max"
    return errors


def validate_foxess_modbus(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, str]:
    """Return form errors for the foxess_modbus step; empty when usable."""
    if user_input.get(CONF_FOXESS_DEVICE):
        if foxess_entities_from_data(hass, user_input) is None:
            return {CONF_FOXESS_DEVICE: "no_work_mode"}
        return {}
    if not user_input.get(CONF_WORK_MODE_ENTITY):
        return {"base": "device_or_entities"}
    return {
        key: "entity_not_found"
        for key in FOXESS_ENTITY_FIELDS
        if (entity_id := user_input.get(key)) and hass.states.get(entity_id) is None
    }


async def async_check_fox_cloud(
    hass: HomeAssistant, api_key: str, serial: str
) -> dict[str, str]:
    """Return form errors for the Fox Cloud step after one test call."""
    try:
        await async_validate_fox_cloud(hass, api_key, serial)
    except InverterError as err:
        field, error = FOX_CLOUD_ERRORS.get(
            err.reason, ("base", "fox_invalid_response")
        )
        return {field: error}
    except Exception:
        _LOGGER.exception("Unexpected error while checking Fox Cloud")
        return {"base": "unknown"}
    return {}


async def _async_require_prices(
    client: PriceClient, product_code: str, region: str, now: datetime
) -> None:
    try:
        rates = await client.async_get_rates(
            product_code, region, now - PRICE_TEST_MARGIN, now + PRICE_TEST_MARGIN
        )
    except OctopusEnergyNoRatesError as err:
        raise NoPricesError(product_code) from err
    if not rates:
        raise NoPricesError(product_code)


def _has_octopus_energy_meter(hass: HomeAssistant) -> bool:
    return any(not meter.is_export for meter in find_rate_entities(hass))


async def async_resolve_entity_tariff(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Pick the Octopus Energy rate entities and read them once; return the tariff."""
    meters = find_rate_entities(hass)
    import_ids = next((m.entity_ids for m in meters if not m.is_export), ())
    export_type: str = user_input[CONF_EXPORT_TYPE]
    export_ids: tuple[str, ...] = ()
    if export_type == EXPORT_AGILE:
        export_ids = next((m.entity_ids for m in meters if m.is_export), ())
        if not export_ids:
            raise NoExportMeterError
    client = OctopusEnergyEntitiesClient(hass, import_ids, export_ids)
    products = await client.async_get_agile_products()
    region: str = user_input[CONF_REGION]
    now = dt_util.utcnow()
    await _async_require_prices(client, products.import_code, region, now)
    tariff: dict[str, Any] = {
        CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
        CONF_REGION: region,
        CONF_IMPORT_PRODUCT: products.import_code,
        CONF_EXPORT_TYPE: export_type,
        CONF_RATE_ENTITIES: list(import_ids),
    }
    if products.export_code is not None:
        await _async_require_prices(client, products.export_code, region, now)
        tariff[CONF_EXPORT_PRODUCT] = products.export_code
        tariff[CONF_EXPORT_RATE_ENTITIES] = list(export_ids)
    return tariff


async def async_resolve_tariff(
    hass: HomeAssistant, user_input: Mapping[str, Any]
) -> dict[str, Any]:
    """Find the product codes and fetch their prices once; return the tariff data."""
    source = user_input.get(CONF_PRICE_SOURCE)
    if source == PRICE_SOURCE_OCTOPUS_ENERGY:
        return await async_resolve_entity_tariff(hass, user_input)
    client = OctopusClient(async_get_clientsession(hass))
    region: str = user_input[CONF_REGION]
    export_type: str = user_input[CONF_EXPORT_TYPE]
    import_code = manual_product(user_input)
    export_code: str | None = None
    if not import_code or export_type == EXPORT_AGILE:
        products = await client.async_get_agile_products()
        import_code = import_code or products.import_code
        export_code = products.export_code
    now = dt_util.utcnow()
    await _async_require_prices(client, import_code, region, now)
    tariff: dict[str, Any] = {
        CONF_REGION: region,
        CONF_IMPORT_PRODUCT: import_code,
        CONF_EXPORT_TYPE: export_type,
    }
    if manual_product(user_input):
        tariff[CONF_MANUAL_PRODUCT] = True
    # Only stored when it was chosen, so a reconfigure form shows that choice.
    if source is not None:
        tariff[CONF_PRICE_SOURCE] = PRICE_SOURCE_OCTOPUS
    if export_type == EXPORT_AGILE:
        if export_code is None:
            raise NoExportProductError
        await _async_require_prices(client, export_code, region, now)
        tariff[CONF_EXPORT_PRODUCT] = export_code
    return tariff


class BatteryOptimizerConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up one optimizer per battery: tariff, then the battery itself."""

    VERSION = 1
    # 1.2: the unique id is the battery sensor's registry id, not its entity id.
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with no tariff chosen."""
        self._tariff: dict[str, Any] = {}
        self._battery: dict[str, Any] = {}

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: BatteryOptimizerConfigEntry,
    ) -> BatteryOptimizerOptionsFlow:
        """Return the options flow for an entry."""
        return BatteryOptimizerOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tariff of a new entry."""
        return await self._async_step_tariff("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the tariff again, prefilled from the entry being changed."""
        return await self._async_step_tariff("reconfigure", user_input)

    async def async_step_export_rate(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the fixed export rate."""
        if user_input is not None:
            self._tariff[CONF_EXPORT_RATE] = user_input[CONF_EXPORT_RATE]
            return await self.async_step_battery()
        return self.async_show_form(
            step_id="export_rate",
            data_schema=self.add_suggested_values_to_schema(
                EXPORT_RATE_SCHEMA, self._current_data()
            ),
        )

    async def async_step_battery(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the battery entities and limits, then create or update the entry."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_battery(self.hass, user_input)
            if not errors:
                await self._async_claim_battery(user_input[CONF_SOC_ENTITY])
                self._battery = {**self._tariff, **user_input}
                return await self.async_step_inverter()
        return self.async_show_form(
            step_id="battery",
            data_schema=self.add_suggested_values_to_schema(
                BATTERY_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_inverter(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask how the inverter is driven, if at all."""
        if user_input is not None:
            kind = user_input[CONF_INVERTER]
            if kind == INVERTER_FOXESS_MODBUS:
                return await self.async_step_foxess_modbus()
            if kind == INVERTER_FOX_CLOUD:
                return await self.async_step_fox_cloud()
            return await self._async_finish({**self._battery, CONF_INVERTER: kind})
        return self.async_show_form(
            step_id="inverter",
            data_schema=self.add_suggested_values_to_schema(
                INVERTER_SCHEMA, self._current_data()
            ),
        )

    async def async_step_foxess_modbus(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the foxess_modbus device, or its control entities."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_foxess_modbus(self.hass, user_input)
            if not errors:
                return await self._async_finish(
                    {
                        **self._battery,
                        **user_input,
                        CONF_INVERTER: INVERTER_FOXESS_MODBUS,
                    }
                )
        return self.async_show_form(
            step_id="foxess_modbus",
            data_schema=self.add_suggested_values_to_schema(
                FOXESS_MODBUS_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_fox_cloud(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the Fox Cloud API key and serial, and test them."""
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            serial = user_input[CONF_DEVICE_SERIAL].strip()
            errors = await async_check_fox_cloud(self.hass, api_key, serial)
            if not errors:
                return await self._async_finish(
                    {
                        **self._battery,
                        CONF_INVERTER: INVERTER_FOX_CLOUD,
                        CONF_API_KEY: api_key,
                        CONF_DEVICE_SERIAL: serial,
                    }
                )
        return self.async_show_form(
            step_id="fox_cloud",
            data_schema=self.add_suggested_values_to_schema(
                FOX_CLOUD_SCHEMA, user_input or self._current_data()
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Fox ESS Cloud refused the API key: ask for a new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the new Fox ESS Cloud API key and test it on the entry's inverter."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            errors = await async_check_fox_cloud(
                self.hass, api_key, entry.data[CONF_DEVICE_SERIAL]
            )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_API_KEY: api_key}
                )
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=REAUTH_SCHEMA,
            description_placeholders={
                "title": entry.title,
                "serial": entry.data[CONF_DEVICE_SERIAL],
            },
            errors=errors,
        )

    async def _async_step_tariff(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                self._tariff = await async_resolve_tariff(self.hass, user_input)
            except OctopusConnectionError:
                errors["base"] = "cannot_connect"
            except OctopusNotFoundError:
                errors["base"] = "unknown_product"
            except OctopusResponseError:
                errors["base"] = "invalid_response"
            except NoPricesError:
                errors["base"] = "no_prices"
            except NoExportProductError:
                errors["base"] = "no_export_product"
            except NoExportMeterError:
                errors["base"] = "no_export_meter"
            except Exception:
                _LOGGER.exception("Unexpected error while checking the Octopus tariff")
                errors["base"] = "unknown"
            else:
                if self._tariff[CONF_EXPORT_TYPE] == EXPORT_FIXED:
                    return await self.async_step_export_rate()
                return await self.async_step_battery()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                tariff_schema(_has_octopus_energy_meter(self.hass)),
                tariff_suggestions(user_input or self._current_data()),
            ),
            errors=errors,
        )

    def _current_data(self) -> Mapping[str, Any]:
        """Return the values to prefill: the entry's when reconfiguring, else none."""
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry().data
        return {}

    async def _async_claim_battery(self, soc_entity_id: str) -> None:
        """Abort if another entry already optimises this battery."""
        unique_id = battery_unique_id(self.hass, soc_entity_id)
        # Keeping the same battery must not collide with the entry being changed.
        if (
            self.source == SOURCE_RECONFIGURE
            and unique_id == self._get_reconfigure_entry().unique_id
        ):
            return
        await self.async_set_unique_id(unique_id)
        self._abort_if_unique_id_configured()

    async def _async_finish(self, data: dict[str, Any]) -> ConfigFlowResult:
        soc_entity_id: str = data[CONF_SOC_ENTITY]
        if self.source != SOURCE_RECONFIGURE:
            return self.async_create_entry(
                title=entry_title(data[CONF_REGION]), data=data
            )
        entry = self._get_reconfigure_entry()
        # Keep a title the user chose; follow the region only for the default one.
        title = entry.title
        if title == entry_title(entry.data[CONF_REGION]):
            title = entry_title(data[CONF_REGION])
        return self.async_update_reload_and_abort(
            entry,
            unique_id=battery_unique_id(self.hass, soc_entity_id),
            title=title,
            data=data,
        )


class BatteryOptimizerOptionsFlow(OptionsFlow):
    """Tune the planner without setting the entry up again."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the planner options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            meters = (
                user_input.get(CONF_GRID_IMPORT_ENERGY_ENTITY),
                user_input.get(CONF_GRID_EXPORT_ENERGY_ENTITY),
            )
            if user_input[CONF_CHEAP_THRESHOLD] >= user_input[CONF_EXPENSIVE_THRESHOLD]:
                errors[CONF_CHEAP_THRESHOLD] = "thresholds_order"
            elif any(meters) and not all(meters):
                errors["base"] = "grid_meters_pair"
            elif any(meters) and not self.config_entry.data.get(CONF_LOAD_POWER_ENTITY):
                errors["base"] = "savings_need_load"
            else:
                # Number selectors give floats; whole hours and minutes read better.
                options = {
                    **user_input,
                    CONF_HORIZON_HOURS: int(user_input[CONF_HORIZON_HOURS]),
                    CONF_REPLAN_MINUTES: int(user_input[CONF_REPLAN_MINUTES]),
                }
                # The planner reads its options at setup: new ones need a reload.
                # Done here rather than by an update listener, which newer Home
                # Assistant releases refuse beside the reload helpers.
                entries = self.hass.config_entries
                if entries.async_update_entry(self.config_entry, options=options):
                    entries.async_schedule_reload(self.config_entry.entry_id)
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, user_input or self.config_entry.options
            ),
            errors=errors,
        )
