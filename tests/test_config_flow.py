"""Tests for the Battery Optimizer config, reconfigure and options flows."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.battery_optimizer.const import (
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
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE,
    CONF_EXPORT_RATE_ENTITIES,
    CONF_EXPORT_TYPE,
    CONF_FORCE_CHARGE_POWER_ENTITY,
    CONF_FOXESS_DEVICE,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_HORIZON_HOURS,
    CONF_HYSTERESIS_P,
    CONF_IMPORT_PRODUCT,
    CONF_INVERTER,
    CONF_LOAD_POWER_ENTITY,
    CONF_MANUAL_PRODUCT,
    CONF_MAX_SOC_PCT,
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
    DEFAULT_CHEAP_THRESHOLD,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_HYSTERESIS_P,
    DOMAIN,
    EXPORT_AGILE,
    EXPORT_FIXED,
    EXPORT_NONE,
    EXPORT_TYPES,
    INVERTER_FOX_CLOUD,
    INVERTER_FOXESS_MODBUS,
    INVERTER_NONE,
    INVERTER_SIMULATED,
    INVERTER_TYPES,
    PRICE_SOURCE_OCTOPUS,
    PRICE_SOURCE_OCTOPUS_ENERGY,
    PRICE_SOURCES,
    SECTION_ADVANCED,
)
from custom_components.battery_optimizer.flows.schemas import (
    BATTERY_SCHEMA,
    EXPORT_RATE_SCHEMA,
    FOX_CLOUD_SCHEMA,
    FOXESS_MODBUS_SCHEMA,
    INVERTER_SCHEMA,
    OPTIONS_SCHEMA,
    tariff_schema,
)
from custom_components.battery_optimizer.flows.validate import FOX_CLOUD_ERRORS
from custom_components.battery_optimizer.inverters.base import (
    InverterRateLimitedError,
    InverterUnavailableError,
    Reason,
)
from custom_components.battery_optimizer.inverters.foxess_modbus_entities import (
    FOXESS_MODBUS_DOMAIN,
)
from custom_components.battery_optimizer.optimizer.model import Mode
from custom_components.battery_optimizer.tariffs.octopus import (
    AgileProducts,
    OctopusConnectionError,
    OctopusNotFoundError,
    OctopusResponseError,
    Rate,
)
from custom_components.battery_optimizer.tariffs.octopus_energy import (
    ENTITIES_EXPORT_PRODUCT,
    ENTITIES_IMPORT_PRODUCT,
)

CLIENT = "custom_components.battery_optimizer.flows.tariff.OctopusClient"
IMPORT_CODE = "AGILE-24-10-01"
EXPORT_CODE = "AGILE-OUTGOING-19-05-13"
SOC = "sensor.battery_soc"
OTHER_SOC = "sensor.garage_battery_soc"
PV = "sensor.pv_power"
LOAD = "sensor.load_power"
VOLTAGE = "sensor.battery_voltage"
TRANSLATIONS = (
    Path(__file__).parent.parent
    / "custom_components"
    / "battery_optimizer"
    / "translations"
    / "en.json"
)

BATTERY_INPUT: dict[str, Any] = {
    CONF_SOC_ENTITY: SOC,
    CONF_PV_POWER_ENTITY: PV,
    CONF_LOAD_POWER_ENTITY: LOAD,
    CONF_BATTERY_VOLTAGE_ENTITY: VOLTAGE,
    CONF_CAPACITY_KWH: 10.4,
    CONF_CHARGE_LIMIT_KW: 5.0,
    CONF_DISCHARGE_LIMIT_KW: 4.5,
    CONF_EFFICIENCY_PCT: 90.0,
    CONF_RESERVE_SOC_PCT: 10.0,
    CONF_MAX_SOC_PCT: 95.0,
    CONF_EXPORT_LIMIT_KW: 3.68,
}

OPTIONS_INPUT: dict[str, Any] = {
    CONF_HORIZON_HOURS: 36.0,
    CONF_REPLAN_MINUTES: 10.0,
    CONF_CYCLE_COST: 3.0,
    CONF_CHEAP_THRESHOLD: 8.0,
    CONF_EXPENSIVE_THRESHOLD: 30.0,
    CONF_END_VALUE_PCT: 70.0,
    CONF_DAILY_LOAD_KWH: 12.0,
    CONF_HYSTERESIS_P: 2.5,
    CONF_PV_SOURCE: "solcast",
    CONF_PV_ESTIMATE: "p10",
}


def _rate() -> Rate:
    start = dt_util.utcnow().replace(second=0, microsecond=0)
    return Rate(start=start, end=start + timedelta(minutes=30), price_p_per_kwh=21.5)


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep the flows from setting up the whole integration."""
    with patch(
        "custom_components.battery_optimizer.async_setup_entry", return_value=True
    ) as mock:
        yield mock


@pytest.fixture
def mock_products() -> Generator[AsyncMock]:
    """Answer the products API with current Agile products."""
    with patch(
        f"{CLIENT}.async_get_agile_products",
        return_value=AgileProducts(import_code=IMPORT_CODE, export_code=EXPORT_CODE),
    ) as mock:
        yield mock


@pytest.fixture
def mock_rates() -> Generator[AsyncMock]:
    """Answer every rates request with one half-hour price."""
    with patch(f"{CLIENT}.async_get_rates", return_value=[_rate()]) as mock:
        yield mock


@pytest.fixture(autouse=True)
def inverter_states(hass: HomeAssistant) -> None:
    """Create the inverter sensors the battery step points at."""
    battery = {"device_class": "battery", "unit_of_measurement": "%"}
    hass.states.async_set(SOC, "55", battery)
    hass.states.async_set(OTHER_SOC, "80", battery)
    power = {"device_class": "power", "unit_of_measurement": "kW"}
    hass.states.async_set(PV, "1.2", power)
    hass.states.async_set(LOAD, "0.35", power)
    hass.states.async_set(
        VOLTAGE, "52.1", {"device_class": "voltage", "unit_of_measurement": "V"}
    )


def _form_fields(result: ConfigFlowResult) -> set[str]:
    """Return the names of the fields a form shows."""
    schema = result["data_schema"]
    assert schema is not None
    return {str(key) for key in schema.schema}


def _suggested(
    result: ConfigFlowResult, field: str, in_section: str | None = None
) -> Any:
    """Return the value a form prefills for a field, or for one in a section."""
    schema = result["data_schema"]
    assert schema is not None
    fields = schema.schema
    if in_section is not None:
        fields = next(v for k, v in fields.items() if k == in_section).schema.schema
    for key in fields:
        if key == field:
            return (key.description or {}).get("suggested_value")
    raise AssertionError(f"{field} is not in the form")


def _section_fields(result: ConfigFlowResult, name: str) -> tuple[set[str], bool]:
    """Return the fields of a form's section, and whether it starts folded."""
    schema = result["data_schema"]
    assert schema is not None
    folded = next(v for k, v in schema.schema.items() if k == name)
    return {str(key) for key in folded.schema.schema}, folded.options["collapsed"]


def _entry(
    unique_id: str = SOC,
    title: str = "Battery Optimizer (London)",
    data: dict[str, Any] | None = None,
) -> MockConfigEntry:
    base = {
        CONF_REGION: "C",
        CONF_IMPORT_PRODUCT: IMPORT_CODE,
        CONF_EXPORT_TYPE: EXPORT_AGILE,
        CONF_EXPORT_PRODUCT: EXPORT_CODE,
        **BATTERY_INPUT,
        CONF_SOC_ENTITY: unique_id,
    }
    return MockConfigEntry(
        domain=DOMAIN, title=title, unique_id=unique_id, data=base | (data or {})
    )


async def _start(hass: HomeAssistant) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def _configure(
    hass: HomeAssistant, result: ConfigFlowResult, user_input: dict[str, Any]
) -> ConfigFlowResult:
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


async def _battery_then_no_inverter(
    hass: HomeAssistant, result: ConfigFlowResult, battery: dict[str, Any]
) -> ConfigFlowResult:
    """Submit the battery step, then keep the entry recommend-only."""
    result = await _configure(hass, result, battery)
    assert result["step_id"] == "inverter"
    return await _configure(hass, result, {CONF_INVERTER: INVERTER_NONE})


@pytest.mark.usefixtures("mock_products")
async def test_user_flow_agile_outgoing(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, mock_rates: AsyncMock
) -> None:
    """Agile Outgoing discovers both products and tests both price feeds."""
    result = await _start(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    # The manual product code is there for every user, folded away.
    assert CONF_IMPORT_PRODUCT not in _form_fields(result)
    assert _section_fields(result, SECTION_ADVANCED) == ({CONF_IMPORT_PRODUCT}, True)
    # Without the Octopus Energy integration there is no source to choose.
    assert CONF_PRICE_SOURCE not in _form_fields(result)

    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_AGILE}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "battery"

    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Battery Optimizer (London)"
    assert result["data"] == {
        CONF_REGION: "C",
        CONF_IMPORT_PRODUCT: IMPORT_CODE,
        CONF_EXPORT_TYPE: EXPORT_AGILE,
        CONF_EXPORT_PRODUCT: EXPORT_CODE,
        **BATTERY_INPUT,
        CONF_INVERTER: INVERTER_NONE,
    }
    assert result["result"].unique_id == SOC
    assert len(mock_setup_entry.mock_calls) == 1

    now = dt_util.utcnow()
    fetched = [call.args for call in mock_rates.await_args_list]
    assert [args[:2] for args in fetched] == [(IMPORT_CODE, "C"), (EXPORT_CODE, "C")]
    for _, _, period_from, period_to in fetched:
        assert period_from < now < period_to
        assert period_to - period_from <= timedelta(hours=3)


@pytest.mark.usefixtures("mock_products", "mock_setup_entry")
async def test_user_flow_fixed_export(
    hass: HomeAssistant, mock_rates: AsyncMock
) -> None:
    """A fixed export tariff asks for its rate and fetches only import prices."""
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "A", CONF_EXPORT_TYPE: EXPORT_FIXED}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "export_rate"
    assert _suggested(result, CONF_EXPORT_RATE) is None

    result = await _configure(hass, result, {CONF_EXPORT_RATE: 12.5})
    assert result["step_id"] == "battery"
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Battery Optimizer (Eastern England)"
    assert result["data"][CONF_EXPORT_RATE] == 12.5
    assert result["data"][CONF_EXPORT_TYPE] == EXPORT_FIXED
    assert CONF_EXPORT_PRODUCT not in result["data"]
    assert [call.args[0] for call in mock_rates.await_args_list] == [IMPORT_CODE]


@pytest.mark.usefixtures("mock_products", "mock_setup_entry")
async def test_user_flow_no_export_and_only_required_sensor(
    hass: HomeAssistant, mock_rates: AsyncMock
) -> None:
    """No export skips the export rate; the optional sensors may be left out."""
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "P", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    assert result["step_id"] == "battery"
    battery = {
        key: value
        for key, value in BATTERY_INPUT.items()
        if key
        not in (
            CONF_PV_POWER_ENTITY,
            CONF_LOAD_POWER_ENTITY,
            CONF_BATTERY_VOLTAGE_ENTITY,
        )
    }
    result = await _battery_then_no_inverter(hass, result, battery)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_REGION: "P",
        CONF_IMPORT_PRODUCT: IMPORT_CODE,
        CONF_EXPORT_TYPE: EXPORT_NONE,
        **battery,
        CONF_INVERTER: INVERTER_NONE,
    }
    assert len(mock_rates.await_args_list) == 1


@pytest.mark.usefixtures("mock_setup_entry")
async def test_advanced_manual_product_skips_discovery(
    hass: HomeAssistant, mock_products: AsyncMock, mock_rates: AsyncMock
) -> None:
    """A product code typed under Advanced is normalised and used as it is."""
    result = await _start(hass)
    result = await _configure(
        hass,
        result,
        {
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_NONE,
            SECTION_ADVANCED: {CONF_IMPORT_PRODUCT: " agile-flex-22-11-25 "},
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    assert result["data"][CONF_IMPORT_PRODUCT] == "AGILE-FLEX-22-11-25"
    mock_products.assert_not_awaited()
    assert mock_rates.await_args_list[0].args[:2] == ("AGILE-FLEX-22-11-25", "C")


@pytest.mark.usefixtures("mock_setup_entry", "mock_rates")
async def test_advanced_manual_product_with_agile_outgoing(
    hass: HomeAssistant, mock_products: AsyncMock
) -> None:
    """A manual import code still needs the export product from the API."""
    result = await _start(hass)
    result = await _configure(
        hass,
        result,
        {
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_AGILE,
            SECTION_ADVANCED: {CONF_IMPORT_PRODUCT: "AGILE-FLEX-22-11-25"},
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    mock_products.assert_awaited_once()
    assert result["data"][CONF_IMPORT_PRODUCT] == "AGILE-FLEX-22-11-25"
    assert result["data"][CONF_EXPORT_PRODUCT] == EXPORT_CODE


@pytest.mark.parametrize(
    ("target", "side_effect", "error"),
    [
        ("async_get_agile_products", OctopusConnectionError, "cannot_connect"),
        ("async_get_rates", OctopusConnectionError, "cannot_connect"),
        ("async_get_rates", OctopusNotFoundError, "unknown_product"),
        ("async_get_agile_products", OctopusResponseError, "invalid_response"),
        ("async_get_rates", [[]], "no_prices"),
        ("async_get_rates", [[_rate()], []], "no_prices"),
        ("async_get_rates", RuntimeError("boom"), "unknown"),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_tariff_errors_then_recovery(
    hass: HomeAssistant,
    mock_products: AsyncMock,
    mock_rates: AsyncMock,
    target: str,
    side_effect: Any,
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each API failure shows its error, and the same form then succeeds."""
    mock = mock_products if target == "async_get_agile_products" else mock_rates
    mock.side_effect = side_effect
    tariff = {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_AGILE}

    result = await _start(hass)
    result = await _configure(hass, result, tariff)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": error}
    assert _suggested(result, CONF_REGION) == "C"
    # Only the unexpected failure needs a traceback in the log.
    assert ("Unexpected error" in caplog.text) == (error == "unknown")

    mock.side_effect = None
    result = await _configure(hass, result, tariff)
    assert result["step_id"] == "battery"
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry", "mock_products")
async def test_unknown_manual_product_marks_the_field(
    hass: HomeAssistant, mock_rates: AsyncMock
) -> None:
    """A 404 for a typed product code says so and keeps what was typed."""
    mock_rates.side_effect = OctopusNotFoundError
    result = await _start(hass)
    tariff = {
        CONF_REGION: "C",
        CONF_EXPORT_TYPE: EXPORT_NONE,
        SECTION_ADVANCED: {CONF_IMPORT_PRODUCT: "AGILE-TYPO"},
    }
    result = await _configure(hass, result, tariff)
    assert result["errors"] == {"base": "unknown_product"}
    assert _suggested(result, CONF_IMPORT_PRODUCT, SECTION_ADVANCED) == "AGILE-TYPO"

    mock_rates.side_effect = None
    result = await _configure(
        hass, result, {**tariff, SECTION_ADVANCED: {CONF_IMPORT_PRODUCT: ""}}
    )
    assert result["step_id"] == "battery"
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["data"][CONF_IMPORT_PRODUCT] == IMPORT_CODE


@pytest.mark.usefixtures("mock_setup_entry", "mock_rates")
async def test_no_agile_outgoing_product(
    hass: HomeAssistant, mock_products: AsyncMock
) -> None:
    """Without an Agile Outgoing product the user is asked to pick another export."""
    mock_products.return_value = AgileProducts(
        import_code=IMPORT_CODE, export_code=None
    )
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_AGILE}
    )
    assert result["errors"] == {"base": "no_export_product"}

    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_EXPORT_PRODUCT not in result["data"]


@pytest.mark.parametrize(
    ("states", "changes", "errors"),
    [
        ({SOC: None}, {}, {CONF_SOC_ENTITY: "entity_not_found"}),
        ({SOC: "unavailable"}, {}, {CONF_SOC_ENTITY: "soc_not_numeric"}),
        ({SOC: "charging"}, {}, {CONF_SOC_ENTITY: "soc_not_numeric"}),
        ({PV: None}, {}, {CONF_PV_POWER_ENTITY: "entity_not_found"}),
        ({LOAD: "high"}, {}, {CONF_LOAD_POWER_ENTITY: "not_numeric"}),
        ({VOLTAGE: "nan"}, {}, {CONF_BATTERY_VOLTAGE_ENTITY: "not_numeric"}),
        (
            {},
            {CONF_RESERVE_SOC_PCT: 95.0, CONF_MAX_SOC_PCT: 95.0},
            {CONF_RESERVE_SOC_PCT: "reserve_above_max"},
        ),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry", "mock_products", "mock_rates")
async def test_battery_errors_then_recovery(
    hass: HomeAssistant,
    states: dict[str, str | None],
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Bad entities or limits keep the form open with the input kept."""
    for entity_id, state in states.items():
        if state is None:
            hass.states.async_remove(entity_id)
        else:
            hass.states.async_set(entity_id, state)
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _configure(hass, result, {**BATTERY_INPUT, **changes})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "battery"
    assert result["errors"] == errors
    assert (
        _suggested(result, CONF_MAX_SOC_PCT)
        == {**BATTERY_INPUT, **changes}[CONF_MAX_SOC_PCT]
    )

    for entity_id in states:
        hass.states.async_set(entity_id, "50")
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry", "mock_products", "mock_rates")
async def test_unavailable_power_sensors_are_accepted(hass: HomeAssistant) -> None:
    """Solar and load sensors read unavailable at night; setup must still work."""
    hass.states.async_set(PV, "unavailable")
    hass.states.async_set(LOAD, "unknown")
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_setup_entry", "mock_products", "mock_rates")
async def test_same_battery_twice_aborts(hass: HomeAssistant) -> None:
    """One entry per SoC sensor."""
    _entry().add_to_hass(hass)
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _configure(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


@pytest.mark.usefixtures("mock_setup_entry", "mock_products", "mock_rates")
async def test_battery_is_known_by_its_registry_id_across_renames(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """Renaming the SoC sensor does not let a second entry claim the battery."""
    registered = entity_registry.async_get_or_create(
        "sensor", "foxess_modbus", "battery_soc_registered"
    )
    hass.states.async_set(registered.entity_id, "55")
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _battery_then_no_inverter(
        hass, result, {**BATTERY_INPUT, CONF_SOC_ENTITY: registered.entity_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == registered.id

    renamed = "sensor.house_battery_soc"
    entity_registry.async_update_entity(registered.entity_id, new_entity_id=renamed)
    hass.states.async_set(renamed, "55")
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _configure(hass, result, {**BATTERY_INPUT, CONF_SOC_ENTITY: renamed})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_flow(hass: HomeAssistant) -> None:
    """Options show the defaults, reject crossed thresholds and store whole units."""
    entry = _entry()
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    schema = result["data_schema"]
    assert schema is not None
    defaults = schema({})
    assert defaults[CONF_HORIZON_HOURS] == DEFAULT_HORIZON_HOURS
    assert defaults[CONF_CHEAP_THRESHOLD] == DEFAULT_CHEAP_THRESHOLD
    assert defaults[CONF_HYSTERESIS_P] == DEFAULT_HYSTERESIS_P

    crossed = {**OPTIONS_INPUT, CONF_CHEAP_THRESHOLD: 30.0}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], crossed
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_CHEAP_THRESHOLD: "thresholds_order"}
    assert _suggested(result, CONF_CHEAP_THRESHOLD) == 30.0
    assert entry.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], OPTIONS_INPUT
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options == {
        **OPTIONS_INPUT,
        CONF_HORIZON_HOURS: 36,
        CONF_REPLAN_MINUTES: 10,
    }
    assert isinstance(entry.options[CONF_HORIZON_HOURS], int)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert _suggested(result, CONF_EXPENSIVE_THRESHOLD) == 30.0


@pytest.mark.parametrize(
    ("meters", "load", "error"),
    [
        ({CONF_GRID_IMPORT_ENERGY_ENTITY: "sensor.grid_in"}, LOAD, "grid_meters_pair"),
        (
            {
                CONF_GRID_IMPORT_ENERGY_ENTITY: "sensor.grid_in",
                CONF_GRID_EXPORT_ENERGY_ENTITY: "sensor.grid_out",
            },
            None,
            "savings_need_load",
        ),
    ],
)
async def test_options_grid_meters_need_each_other_and_the_load(
    hass: HomeAssistant, meters: dict[str, str], load: str | None, error: str
) -> None:
    """Savings need both grid meters and the house load sensor, or nothing."""
    entry = _entry(data={CONF_LOAD_POWER_ENTITY: load} if load is None else None)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS_INPUT, **meters}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert entry.options == {}


async def test_options_store_the_grid_meters(hass: HomeAssistant) -> None:
    """With both meters and a load sensor, the options keep them."""
    entry = _entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    meters = {
        CONF_GRID_IMPORT_ENERGY_ENTITY: "sensor.grid_in",
        CONF_GRID_EXPORT_ENERGY_ENTITY: "sensor.grid_out",
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**OPTIONS_INPUT, **meters}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_GRID_EXPORT_ENERGY_ENTITY] == "sensor.grid_out"


async def test_options_reject_out_of_range_horizon(hass: HomeAssistant) -> None:
    """The horizon stays within 12 hours and a week."""
    entry = _entry()
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(vol.Invalid):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**OPTIONS_INPUT, CONF_HORIZON_HOURS: 6}
        )


@pytest.mark.usefixtures("mock_products", "mock_rates")
async def test_reconfigure_changes_tariff_and_battery(
    hass: HomeAssistant, mock_setup_entry: AsyncMock
) -> None:
    """Reconfigure prefills the entry, replaces its data and reloads it."""
    entry = _entry()
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert _suggested(result, CONF_REGION) == "C"
    assert _suggested(result, CONF_EXPORT_TYPE) == EXPORT_AGILE

    result = await _configure(
        hass, result, {CONF_REGION: "A", CONF_EXPORT_TYPE: EXPORT_FIXED}
    )
    assert result["step_id"] == "export_rate"
    result = await _configure(hass, result, {CONF_EXPORT_RATE: 15.0})
    assert result["step_id"] == "battery"
    assert _suggested(result, CONF_SOC_ENTITY) == SOC
    assert _suggested(result, CONF_DISCHARGE_LIMIT_KW) == 4.5

    new_battery = {
        key: value
        for key, value in BATTERY_INPUT.items()
        if key != CONF_PV_POWER_ENTITY
    }
    new_battery[CONF_SOC_ENTITY] = "sensor.battery_soc_2"
    hass.states.async_set(
        "sensor.battery_soc_2",
        "40",
        {"device_class": "battery", "unit_of_measurement": "%"},
    )
    result = await _battery_then_no_inverter(hass, result, new_battery)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_REGION: "A",
        CONF_IMPORT_PRODUCT: IMPORT_CODE,
        CONF_EXPORT_TYPE: EXPORT_FIXED,
        CONF_EXPORT_RATE: 15.0,
        **new_battery,
        CONF_INVERTER: INVERTER_NONE,
    }
    assert entry.unique_id == "sensor.battery_soc_2"
    assert entry.title == "Battery Optimizer (Eastern England)"
    assert len(mock_setup_entry.mock_calls) == 1


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_reconfigure_keeps_a_title_the_user_chose(hass: HomeAssistant) -> None:
    """A renamed entry keeps its name when the region changes."""
    entry = _entry(
        title="Loft battery",
        data={CONF_EXPORT_TYPE: EXPORT_FIXED, CONF_EXPORT_RATE: 4.1},
    )
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "M", CONF_EXPORT_TYPE: EXPORT_FIXED}
    )
    assert _suggested(result, CONF_EXPORT_RATE) == 4.1
    result = await _configure(hass, result, {CONF_EXPORT_RATE: 4.1})
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    await hass.async_block_till_done()

    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Loft battery"
    assert entry.data[CONF_REGION] == "M"
    assert entry.unique_id == SOC


@pytest.mark.usefixtures("mock_products", "mock_setup_entry")
async def test_reconfigure_error_then_recovery(
    hass: HomeAssistant, mock_rates: AsyncMock
) -> None:
    """A failed price check on reconfigure changes nothing until it succeeds."""
    entry = _entry()
    entry.add_to_hass(hass)
    before = dict(entry.data)
    mock_rates.side_effect = OctopusConnectionError

    result = await entry.start_reconfigure_flow(hass)
    tariff = {CONF_REGION: "B", CONF_EXPORT_TYPE: EXPORT_AGILE}
    result = await _configure(hass, result, tariff)
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.data == before

    mock_rates.side_effect = None
    result = await _configure(hass, result, tariff)
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_REGION] == "B"
    assert entry.title == "Battery Optimizer (East Midlands)"


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_reconfigure_prefills_a_typed_product_only(hass: HomeAssistant) -> None:
    """A typed product code is shown again; a discovered one is found anew."""
    typed = _entry(
        data={CONF_IMPORT_PRODUCT: "AGILE-FLEX-22-11-25", CONF_MANUAL_PRODUCT: True}
    )
    typed.add_to_hass(hass)
    result = await typed.start_reconfigure_flow(hass)
    assert (
        _suggested(result, CONF_IMPORT_PRODUCT, SECTION_ADVANCED)
        == "AGILE-FLEX-22-11-25"
    )

    discovered = _entry(unique_id=OTHER_SOC, data={CONF_IMPORT_PRODUCT: IMPORT_CODE})
    discovered.add_to_hass(hass)
    result = await discovered.start_reconfigure_flow(hass)
    assert _suggested(result, CONF_IMPORT_PRODUCT, SECTION_ADVANCED) is None


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_reconfigure_to_another_entrys_battery_aborts(
    hass: HomeAssistant,
) -> None:
    """Two entries may not optimise the same battery."""
    entry = _entry()
    entry.add_to_hass(hass)
    _entry(unique_id=OTHER_SOC, title="Garage").add_to_hass(hass)
    before = dict(entry.data)

    result = await entry.start_reconfigure_flow(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_AGILE}
    )
    result = await _configure(
        hass, result, {**BATTERY_INPUT, CONF_SOC_ENTITY: OTHER_SOC}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert entry.data == before
    assert entry.unique_id == SOC


def _fields(schema: vol.Schema) -> set[str]:
    return {str(key) for key in schema.schema}


def _assert_form_texts(texts: dict[str, Any], schema: vol.Schema) -> None:
    """A form has a title, a description, and a label and help for every field."""
    assert texts["title"]
    assert texts["description"]
    sections = {
        str(key): value.schema
        for key, value in schema.schema.items()
        if isinstance(value, section)
    }
    plain = _fields(schema) - set(sections)
    assert set(texts["data"]) == plain
    assert set(texts["data_description"]) == plain
    assert set(texts.get("sections", {})) == set(sections)
    for name, inner in sections.items():
        assert texts["sections"][name]["name"]
        assert set(texts["sections"][name]["data"]) == _fields(inner)
        assert set(texts["sections"][name]["data_description"]) == _fields(inner)


def test_translations_cover_every_field_and_option() -> None:
    """Every form field has a label and a description, every export type a label."""
    strings = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    forms = {
        ("config", "user"): tariff_schema(choose_source=True),
        ("config", "reconfigure"): tariff_schema(choose_source=True),
        ("config", "export_rate"): EXPORT_RATE_SCHEMA,
        ("config", "battery"): BATTERY_SCHEMA,
        ("options", "init"): OPTIONS_SCHEMA,
    }
    for (flow, step), schema in forms.items():
        texts = strings[flow]["step"][step]
        _assert_form_texts(texts, schema)
    assert set(strings["selector"]["export_type"]["options"]) == set(EXPORT_TYPES)
    assert set(strings["selector"]["price_source"]["options"]) == set(PRICE_SOURCES)
    assert {
        "cannot_connect",
        "unknown_product",
        "invalid_response",
        "no_prices",
        "no_export_product",
        "no_export_meter",
        "unknown",
        "entity_not_found",
        "soc_not_numeric",
        "not_numeric",
        "reserve_above_max",
    } <= set(strings["config"]["error"])
    assert {"already_configured", "reconfigure_successful"} <= set(
        strings["config"]["abort"]
    )
    assert "thresholds_order" in strings["options"]["error"]


async def _to_inverter_step(hass: HomeAssistant) -> ConfigFlowResult:
    result = await _start(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _configure(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "inverter"
    return result


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_simulated_inverter(hass: HomeAssistant) -> None:
    """Recommend only is the default; a simulated inverter needs nothing more."""
    result = await _to_inverter_step(hass)
    schema = result["data_schema"]
    assert schema is not None
    assert schema({})[CONF_INVERTER] == INVERTER_NONE
    result = await _configure(hass, result, {CONF_INVERTER: INVERTER_SIMULATED})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_INVERTER] == INVERTER_SIMULATED
    assert result["data"][CONF_SOC_ENTITY] == SOC


def _foxess_device(hass: HomeAssistant, serial: str, *, work_mode: bool) -> str:
    """A foxess_modbus device, with or without its work mode select."""
    foxess_entry = MockConfigEntry(domain=FOXESS_MODBUS_DOMAIN)
    foxess_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=foxess_entry.entry_id,
        identifiers={(FOXESS_MODBUS_DOMAIN, serial)},
    )
    if work_mode:
        er.async_get(hass).async_get_or_create(
            "select",
            FOXESS_MODBUS_DOMAIN,
            f"{serial}_work_mode",
            device_id=device.id,
            config_entry=foxess_entry,
        )
    return device.id


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_foxess_modbus_by_device(hass: HomeAssistant) -> None:
    """The device is checked for a work mode select before it is stored."""
    good = _foxess_device(hass, "H1", work_mode=True)
    bare = _foxess_device(hass, "H2", work_mode=False)
    result = await _to_inverter_step(hass)
    result = await _configure(hass, result, {CONF_INVERTER: INVERTER_FOXESS_MODBUS})
    assert result["step_id"] == "foxess_modbus"

    result = await _configure(hass, result, {CONF_FOXESS_DEVICE: bare})
    assert result["errors"] == {CONF_FOXESS_DEVICE: "no_work_mode"}

    result = await _configure(hass, result, {})
    assert result["errors"] == {"base": "device_or_entities"}

    result = await _configure(hass, result, {CONF_FOXESS_DEVICE: good})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_INVERTER] == INVERTER_FOXESS_MODBUS
    assert result["data"][CONF_FOXESS_DEVICE] == good


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_foxess_modbus_by_entities(hass: HomeAssistant) -> None:
    """Entities chosen one by one must exist."""
    entities = {
        CONF_WORK_MODE_ENTITY: "select.work_mode",
        CONF_FORCE_CHARGE_POWER_ENTITY: "number.force_charge_power",
    }
    result = await _to_inverter_step(hass)
    result = await _configure(hass, result, {CONF_INVERTER: INVERTER_FOXESS_MODBUS})
    hass.states.async_set("select.work_mode", "Self Use")
    result = await _configure(hass, result, entities)
    assert result["errors"] == {CONF_FORCE_CHARGE_POWER_ENTITY: "entity_not_found"}
    assert _suggested(result, CONF_WORK_MODE_ENTITY) == "select.work_mode"

    hass.states.async_set("number.force_charge_power", "3.0")
    result = await _configure(hass, result, entities)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {k: result["data"][k] for k in entities} == entities


VALIDATE = "custom_components.battery_optimizer.flows.validate.async_validate_fox_cloud"


@pytest.mark.parametrize(
    ("error", "errors"),
    [
        (
            InverterUnavailableError(Reason.INVALID_AUTH),
            {CONF_API_KEY: "invalid_auth"},
        ),
        (
            InverterUnavailableError(Reason.UNKNOWN_SERIAL),
            {CONF_DEVICE_SERIAL: "unknown_serial"},
        ),
        (
            InverterUnavailableError(Reason.CANNOT_CONNECT),
            {"base": "fox_cannot_connect"},
        ),
        (
            InverterRateLimitedError(Reason.QUOTA_EXHAUSTED),
            {"base": "fox_rate_limited"},
        ),
        (
            InverterUnavailableError(Reason.API_ERROR),
            {"base": "fox_invalid_response"},
        ),
        (RuntimeError("bug"), {"base": "unknown"}),
    ],
)
@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_fox_cloud_errors_then_recovery(
    hass: HomeAssistant, error: Exception, errors: dict[str, str]
) -> None:
    """Fox Cloud's answer is shown on the field it concerns; then it works."""
    result = await _to_inverter_step(hass)
    result = await _configure(hass, result, {CONF_INVERTER: INVERTER_FOX_CLOUD})
    assert result["step_id"] == "fox_cloud"
    fox = {CONF_API_KEY: " key-123 ", CONF_DEVICE_SERIAL: " 60BH372 "}
    with patch(VALIDATE, side_effect=error):
        result = await _configure(hass, result, fox)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors

    with patch(VALIDATE, return_value=None) as validate:
        result = await _configure(hass, result, fox)
    assert validate.await_args is not None
    assert validate.await_args.args[1:] == ("key-123", "60BH372")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_INVERTER] == INVERTER_FOX_CLOUD
    assert result["data"][CONF_API_KEY] == "key-123"
    assert result["data"][CONF_DEVICE_SERIAL] == "60BH372"


@pytest.mark.usefixtures("mock_products", "mock_rates", "mock_setup_entry")
async def test_reconfigure_changes_the_inverter(hass: HomeAssistant) -> None:
    """The inverter step is prefilled; leaving Fox Cloud drops its key."""
    entry = _entry(
        data={
            CONF_INVERTER: INVERTER_FOX_CLOUD,
            CONF_API_KEY: "key-123",
            CONF_DEVICE_SERIAL: "60BH372",
        }
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await _configure(
        hass, result, {CONF_REGION: "C", CONF_EXPORT_TYPE: EXPORT_NONE}
    )
    result = await _configure(hass, result, BATTERY_INPUT)
    assert result["step_id"] == "inverter"
    assert _suggested(result, CONF_INVERTER) == INVERTER_FOX_CLOUD
    result = await _configure(hass, result, {CONF_INVERTER: INVERTER_NONE})
    await hass.async_block_till_done()
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_INVERTER] == INVERTER_NONE
    assert CONF_API_KEY not in entry.data
    assert CONF_DEVICE_SERIAL not in entry.data


def test_translations_cover_the_inverter_and_control() -> None:
    """Inverter steps, their errors, the switch, actions and issues all have texts."""
    strings = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))
    for step, schema in (
        ("inverter", INVERTER_SCHEMA),
        ("foxess_modbus", FOXESS_MODBUS_SCHEMA),
        ("fox_cloud", FOX_CLOUD_SCHEMA),
    ):
        texts = strings["config"]["step"][step]
        _assert_form_texts(texts, schema)
    assert set(strings["selector"]["inverter"]["options"]) == set(INVERTER_TYPES)
    assert set(strings["selector"]["mode"]["options"]) == {m.value for m in Mode}
    assert {error for _, error in FOX_CLOUD_ERRORS.values()} | {
        "no_work_mode",
        "device_or_entities",
        "fox_invalid_response",
    } <= set(strings["config"]["error"])
    assert strings["entity"]["switch"]["automatic_control"]["name"]
    assert {"set_mode", "resume"} <= set(strings["services"])
    assert {
        "no_inverter",
        "inverter_not_found",
        "invalid_duration",
        "power_and_current",
        "mode_unsupported",
        "soc_out_of_range",
        "power_out_of_range",
        "current_out_of_range",
    } <= set(strings["exceptions"])
    assert {
        "control_write_failed",
        "control_rate_limited",
        "control_quota_exhausted",
    } <= set(strings["issues"])


# The Octopus Energy integration's rate entities, named as it names them.
OE_METER = "octopus_energy_electricity_21l1234567_1012345678901"
OE_CURRENT = f"event.{OE_METER}_current_day_rates"
OE_NEXT = f"event.{OE_METER}_next_day_rates"
OE_EXPORT = f"event.{OE_METER}_export_current_day_rates"


def _register_octopus_energy(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, export: bool = False
) -> None:
    """Register the integration's rate entities and give them today's rates."""
    entity_ids = [OE_CURRENT, OE_NEXT] + ([OE_EXPORT] if export else [])
    for entity_id in entity_ids:
        object_id = entity_id.removeprefix("event.")
        entity_registry.async_get_or_create(
            "event", "octopus_energy", object_id, suggested_object_id=object_id
        )
    _set_oe_rates(hass, OE_CURRENT, 0.2)
    _set_oe_rates(hass, OE_NEXT, None)
    if export:
        _set_oe_rates(hass, OE_EXPORT, 0.15)


def _set_oe_rates(hass: HomeAssistant, entity_id: str, price_gbp: float | None) -> None:
    """Rates in GBP/kWh from two hours ago to two hours ahead; None for none."""
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    slot = timedelta(minutes=30)
    rates = [
        {
            "start": (start + (i - 4) * slot).isoformat(),
            "end": (start + (i - 3) * slot).isoformat(),
            "value_inc_vat": price_gbp,
            "is_capped": False,
        }
        for i in range(8)
        if price_gbp is not None
    ]
    hass.states.async_set(entity_id, start.isoformat(), {"rates": rates})


def _default(result: ConfigFlowResult, field: str) -> Any:
    schema = result["data_schema"]
    assert schema is not None
    for key in schema.schema:
        if key == field:
            return key.default()
    raise AssertionError(f"{field} is not in the form")


@pytest.mark.usefixtures("mock_setup_entry")
async def test_octopus_energy_source_reads_its_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    mock_products: AsyncMock,
    mock_rates: AsyncMock,
) -> None:
    """With the integration present its entities are the default price source."""
    _register_octopus_energy(hass, entity_registry)
    result = await _start(hass)
    assert CONF_PRICE_SOURCE in _form_fields(result)
    assert _default(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_OCTOPUS_ENERGY

    result = await _configure(
        hass,
        result,
        {
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_NONE,
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Battery Optimizer (London)"
    assert result["data"] == {
        CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
        CONF_REGION: "C",
        CONF_IMPORT_PRODUCT: ENTITIES_IMPORT_PRODUCT,
        CONF_EXPORT_TYPE: EXPORT_NONE,
        CONF_RATE_ENTITIES: [OE_CURRENT, OE_NEXT],
        **BATTERY_INPUT,
        CONF_INVERTER: INVERTER_NONE,
    }
    mock_products.assert_not_awaited()
    mock_rates.assert_not_awaited()


@pytest.mark.usefixtures("mock_setup_entry")
async def test_octopus_energy_source_with_agile_outgoing(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """Agile Outgoing reads the export meter's entities too."""
    _register_octopus_energy(hass, entity_registry, export=True)
    result = await _start(hass)
    result = await _configure(
        hass,
        result,
        {
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_AGILE,
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    assert result["data"][CONF_EXPORT_PRODUCT] == ENTITIES_EXPORT_PRODUCT
    assert result["data"][CONF_RATE_ENTITIES] == [OE_CURRENT, OE_NEXT]
    assert result["data"][CONF_EXPORT_RATE_ENTITIES] == [OE_EXPORT]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_octopus_energy_source_errors_then_recovery(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """No export meter or no current rates show errors; nothing is stored."""
    _register_octopus_energy(hass, entity_registry)
    tariff = {
        CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
        CONF_REGION: "C",
        CONF_EXPORT_TYPE: EXPORT_AGILE,
    }
    result = await _start(hass)
    result = await _configure(hass, result, tariff)
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "no_export_meter"}
    assert _suggested(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_OCTOPUS_ENERGY

    _set_oe_rates(hass, OE_CURRENT, None)
    result = await _configure(hass, result, {**tariff, CONF_EXPORT_TYPE: EXPORT_NONE})
    assert result["errors"] == {"base": "no_prices"}

    # Rates in tomorrow's entity only (after midnight, before the refresh) count.
    _set_oe_rates(hass, OE_NEXT, 0.3)
    result = await _configure(hass, result, {**tariff, CONF_EXPORT_TYPE: EXPORT_NONE})
    assert result["step_id"] == "battery"
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert not hass.config_entries.async_entries(DOMAIN)[0].data.get(
        CONF_EXPORT_RATE_ENTITIES
    )


@pytest.mark.usefixtures("mock_setup_entry", "mock_products")
async def test_octopus_energy_present_but_api_chosen(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, mock_rates: AsyncMock
) -> None:
    """Choosing the API polls it as before and remembers the choice."""
    _register_octopus_energy(hass, entity_registry, export=True)
    result = await _start(hass)
    result = await _configure(
        hass,
        result,
        {
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS,
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_AGILE,
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)

    assert result["data"][CONF_PRICE_SOURCE] == PRICE_SOURCE_OCTOPUS
    assert result["data"][CONF_IMPORT_PRODUCT] == IMPORT_CODE
    assert CONF_RATE_ENTITIES not in result["data"]
    assert [call.args[0] for call in mock_rates.await_args_list] == [
        IMPORT_CODE,
        EXPORT_CODE,
    ]


@pytest.mark.usefixtures("mock_setup_entry", "mock_products", "mock_rates")
async def test_reconfigure_from_octopus_energy_to_the_api(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """Reconfigure shows the source in use; switching drops the entity ids."""
    _register_octopus_energy(hass, entity_registry)
    entry = _entry(
        data={
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS_ENERGY,
            CONF_IMPORT_PRODUCT: ENTITIES_IMPORT_PRODUCT,
            CONF_EXPORT_TYPE: EXPORT_NONE,
            CONF_RATE_ENTITIES: [OE_CURRENT, OE_NEXT],
        }
    )
    entry.add_to_hass(hass)

    result = await entry.start_reconfigure_flow(hass)
    assert _suggested(result, CONF_PRICE_SOURCE) == PRICE_SOURCE_OCTOPUS_ENERGY
    result = await _configure(
        hass,
        result,
        {
            CONF_PRICE_SOURCE: PRICE_SOURCE_OCTOPUS,
            CONF_REGION: "C",
            CONF_EXPORT_TYPE: EXPORT_NONE,
        },
    )
    result = await _battery_then_no_inverter(hass, result, BATTERY_INPUT)
    await hass.async_block_till_done()

    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_PRICE_SOURCE] == PRICE_SOURCE_OCTOPUS
    assert entry.data[CONF_IMPORT_PRODUCT] == IMPORT_CODE
    assert CONF_RATE_ENTITIES not in entry.data


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth_takes_a_new_fox_cloud_key(hass: HomeAssistant) -> None:
    """A refused key is asked for again, tested on the entry's inverter, then saved."""
    entry = _entry(
        data={
            CONF_INVERTER: INVERTER_FOX_CLOUD,
            CONF_API_KEY: "old-key",
            CONF_DEVICE_SERIAL: "60BH372",
        }
    )
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["serial"] == "60BH372"

    refused = InverterUnavailableError(Reason.INVALID_AUTH, "errno 40256")
    with patch(VALIDATE, side_effect=refused):
        result = await _configure(hass, result, {CONF_API_KEY: "typo"})
    assert result["errors"] == {CONF_API_KEY: "invalid_auth"}
    assert entry.data[CONF_API_KEY] == "old-key"

    with patch(VALIDATE, return_value=None) as validate:
        result = await _configure(hass, result, {CONF_API_KEY: " new-key "})
    assert validate.await_args is not None
    assert validate.await_args.args[1:] == ("new-key", "60BH372")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_KEY] == "new-key"
    assert entry.data[CONF_DEVICE_SERIAL] == "60BH372"
