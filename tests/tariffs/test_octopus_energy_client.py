"""Prices read from the Octopus Energy integration's rate entities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.battery_optimizer.tariffs.octopus import (
    AgileProducts,
    OctopusNotFoundError,
    OctopusResponseError,
)
from custom_components.battery_optimizer.tariffs.octopus_energy_client import (
    ENTITIES_EXPORT_PRODUCT,
    ENTITIES_IMPORT_PRODUCT,
    OctopusEnergyEntitiesClient,
)

FIXTURE = (
    Path(__file__).parents[1]
    / "fixtures"
    / "forecasts"
    / "octopus_energy_current_day_rates.json"
)
METER = "event.octopus_energy_electricity_21l1234567_1012345678901"
CURRENT = f"{METER}_current_day_rates"
NEXT = f"{METER}_next_day_rates"
EXPORT = f"{METER}_export_current_day_rates"
DAY = datetime(2024, 1, 15, tzinfo=UTC)
SLOT = timedelta(minutes=30)


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
