"""Octopus Energy rate entities: reading their rates, and the price client over them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.battery_optimizer.tariffs.octopus import (
    AgileProducts,
    OctopusNotFoundError,
    OctopusResponseError,
)
from custom_components.battery_optimizer.tariffs.octopus_energy import (
    ENTITIES_EXPORT_PRODUCT,
    ENTITIES_IMPORT_PRODUCT,
    OctopusEnergyEntitiesClient,
    OctopusRateEntities,
    find_rate_entities,
    rates_from_attributes,
    read_rates,
)

FIXTURE = (
    Path(__file__).parents[1]
    / "fixtures"
    / "forecasts"
    / "octopus_energy_current_day_rates.json"
)
CURRENT = "event.octopus_energy_electricity_21l1234567_1012345678901_current_day_rates"
NEXT = "event.octopus_energy_electricity_21l1234567_1012345678901_next_day_rates"
EXPORT = (
    "event.octopus_energy_electricity_21l1234567_1012345678901_export_current_day_rates"
)
DAY = datetime(2024, 1, 15, tzinfo=UTC)
SLOT = timedelta(minutes=30)


def current_day() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(FIXTURE.read_text())
    return loaded


def test_rates_are_converted_to_pence() -> None:
    data = current_day()
    rates = rates_from_attributes(data["attributes"])  # type: ignore[arg-type]
    assert len(rates) == 48
    assert rates[0].start == DAY
    assert rates[0].end == DAY + timedelta(minutes=30)
    assert rates[0].price_p_per_kwh == pytest.approx(15.0)
    assert rates[32].price_p_per_kwh == pytest.approx(37.0)


def test_datetime_objects_and_malformed_rows() -> None:
    start = datetime(2024, 3, 31, 0, 0, tzinfo=UTC)
    rows = [
        {
            "start": start + timedelta(minutes=30),
            "end": start + timedelta(hours=1),
            "value_inc_vat": -0.02,
        },
        {"start": start, "end": start + timedelta(minutes=30), "value_inc_vat": 0.1},
        {"start": start, "end": start, "value_inc_vat": 0.1},
        {
            "start": "2024-03-31T00:00:00",
            "end": "2024-03-31T00:30:00",
            "value_inc_vat": 0.1,
        },
        {"start": "garbage", "end": start, "value_inc_vat": 0.1},
        {"start": start, "end": start + timedelta(minutes=30), "value_inc_vat": True},
        {
            "start": start,
            "end": start + timedelta(minutes=30),
            "value_inc_vat": float("nan"),
        },
        "junk",
    ]
    rates = rates_from_attributes({"rates": rows})
    # Sorted by start; a negative price stays negative.
    assert [r.price_p_per_kwh for r in rates] == pytest.approx([10.0, -2.0])
    assert rates_from_attributes({"rates": None}) == []
    assert rates_from_attributes({}) == []


async def test_read_rates_merges_days_and_builds_price_data(
    hass: HomeAssistant,
) -> None:
    data = current_day()
    hass.states.async_set(CURRENT, str(data["state"]), data["attributes"])  # type: ignore[arg-type]
    tomorrow = [
        {
            "start": DAY + timedelta(days=1),
            "end": DAY + timedelta(days=1, minutes=30),
            "value_inc_vat": 0.2,
        }
    ]
    hass.states.async_set(NEXT, "2024-01-15T16:00:00+00:00", {"rates": tomorrow})
    hass.states.async_set(
        EXPORT,
        "x",
        {
            "rates": [
                {
                    "start": DAY,
                    "end": DAY + timedelta(minutes=30),
                    "value_inc_vat": 0.05,
                }
            ]
        },
    )
    rates = read_rates(hass, [CURRENT, NEXT, "event.gone"])
    assert len(rates) == 49
    assert rates[-1].start == DAY + timedelta(days=1)
    # Later entities win where they overlap; each is read in p/kWh.
    assert [rate.price_p_per_kwh for rate in rates[:1]] == pytest.approx([15.0])
    assert rates[-1].price_p_per_kwh == pytest.approx(20.0)
    (export,) = read_rates(hass, [EXPORT])
    assert export.price_p_per_kwh == pytest.approx(5.0)


async def test_finder_lists_meters_from_the_registry(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    base = "octopus_energy_electricity_21L1234567_1012345678901"
    for unique_id, suggested in (
        (f"{base}_current_day_rates", "imp_current"),
        (f"{base}_next_day_rates", "imp_next"),
        (f"{base}_export_current_day_rates", "exp_current"),
        (f"{base}_previous_day_rates", "imp_previous"),
        ("octopus_energy_gas_G4_123_current_day_rates", "gas"),
    ):
        entity_registry.async_get_or_create(
            "event", "octopus_energy", unique_id, suggested_object_id=suggested
        )
    entity_registry.async_get_or_create(
        "sensor", "octopus_energy", f"{base}_current_day_rates_x"
    )
    entity_registry.async_get_or_create("event", "other", f"{base}_current_day_rates")
    assert find_rate_entities(hass) == [
        OctopusRateEntities(
            "21L1234567", "1012345678901", False, "event.imp_current", "event.imp_next"
        ),
        OctopusRateEntities(
            "21L1234567", "1012345678901", True, "event.exp_current", None
        ),
    ]
    assert find_rate_entities(hass)[1].entity_ids == ("event.exp_current",)


def _set_fixture_state(hass: HomeAssistant, entity_id: str) -> None:
    """Publish the fixture's current-day event state under an entity id."""
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    hass.states.async_set(entity_id, data["state"], data["attributes"])


def _set_rates(
    hass: HomeAssistant, entity_id: str, start: datetime, prices_gbp: list[float]
) -> None:
    rates = [
        {
            "start": (start + i * SLOT).isoformat(),
            "end": (start + (i + 1) * SLOT).isoformat(),
            "value_inc_vat": price,
            "is_capped": False,
        }
        for i, price in enumerate(prices_gbp)
    ]
    hass.states.async_set(entity_id, start.isoformat(), {"rates": rates})


async def test_products_name_the_source(hass: HomeAssistant) -> None:
    """Export is offered only when export entities were given."""
    with_export = OctopusEnergyEntitiesClient(hass, [CURRENT], [EXPORT])
    import_only = OctopusEnergyEntitiesClient(hass, [CURRENT], [])

    assert await with_export.async_get_agile_products() == AgileProducts(
        ENTITIES_IMPORT_PRODUCT, ENTITIES_EXPORT_PRODUCT
    )
    assert await import_only.async_get_agile_products() == AgileProducts(
        ENTITIES_IMPORT_PRODUCT, None
    )


async def test_rates_of_the_period_in_pence(hass: HomeAssistant) -> None:
    """Rates overlapping [from, to) come back in p/kWh, today and tomorrow merged."""
    _set_fixture_state(hass, CURRENT)
    _set_rates(hass, NEXT, DAY + timedelta(days=1), [0.2, 0.21])
    client = OctopusEnergyEntitiesClient(hass, [CURRENT, NEXT], [])

    rates = await client.async_get_rates(
        ENTITIES_IMPORT_PRODUCT,
        "C",
        DAY + timedelta(hours=23, minutes=15),
        DAY + timedelta(days=1, minutes=30),
    )

    # 23:00 overlaps the start of the period; 00:30 tomorrow starts at its end.
    assert [rate.start for rate in rates] == [
        DAY + timedelta(hours=23),
        DAY + timedelta(hours=23, minutes=30),
        DAY + timedelta(days=1),
    ]
    assert rates[-1].price_p_per_kwh == pytest.approx(20.0)
    # The fixture's 23:00 rate is 0.16 GBP/kWh.
    assert rates[0].price_p_per_kwh == pytest.approx(16.0)


async def test_export_rates_come_from_the_export_entities(
    hass: HomeAssistant,
) -> None:
    """The export product reads only the export meter's entity."""
    _set_fixture_state(hass, CURRENT)
    _set_rates(hass, EXPORT, DAY, [0.05, -0.01])
    client = OctopusEnergyEntitiesClient(hass, [CURRENT], [EXPORT])

    rates = await client.async_get_rates(
        ENTITIES_EXPORT_PRODUCT, "C", DAY, DAY + timedelta(days=1)
    )

    assert [rate.price_p_per_kwh for rate in rates] == pytest.approx([5.0, -1.0])


async def test_no_rates_is_a_response_error(hass: HomeAssistant) -> None:
    """Missing entities or a period without rates fail like a bad API answer."""
    _set_fixture_state(hass, CURRENT)
    client = OctopusEnergyEntitiesClient(hass, [CURRENT, NEXT], [])

    with pytest.raises(OctopusResponseError):
        await client.async_get_rates(
            ENTITIES_IMPORT_PRODUCT,
            "C",
            DAY + timedelta(days=1),
            DAY + timedelta(days=2),
        )
    with pytest.raises(OctopusResponseError):
        await OctopusEnergyEntitiesClient(hass, [NEXT], []).async_get_rates(
            ENTITIES_IMPORT_PRODUCT, "C", DAY, DAY + timedelta(days=1)
        )
    # No export entities: the export product has no rates, it is not unknown.
    with pytest.raises(OctopusResponseError) as err:
        await client.async_get_rates(
            ENTITIES_EXPORT_PRODUCT, "C", DAY, DAY + timedelta(days=1)
        )
    assert not isinstance(err.value, OctopusNotFoundError)


async def test_unknown_product_is_not_found(hass: HomeAssistant) -> None:
    """A product code the entities do not stand for is rejected."""
    _set_fixture_state(hass, CURRENT)
    client = OctopusEnergyEntitiesClient(hass, [CURRENT], [])

    with pytest.raises(OctopusNotFoundError):
        await client.async_get_rates(
            "AGILE-24-10-01", "C", DAY, DAY + timedelta(days=1)
        )
