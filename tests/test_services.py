"""Actions: re-plan on demand and read the whole plan."""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.battery_optimizer.const import DOMAIN
from custom_components.battery_optimizer.optimizer.model import Kpis
from custom_components.battery_optimizer.services import (
    ATTR_CONFIG_ENTRY,
    SERVICE_GET_PLAN,
    SERVICE_OPTIMIZE,
)

from .conftest import AGILE_IMPORT, NOW, price_at

SLOT_FIELDS = {
    "start",
    "end",
    "import_price_p_per_kwh",
    "export_price_p_per_kwh",
    "price_is_forecast",
    "load_kw",
    "pv_kw",
    "import_kw",
    "export_kw",
    "charge_kw",
    "discharge_kw",
    "curtail_kw",
    "soc_pct",
    "soc_kwh",
    "mode",
    "charge_current_a",
    "cost_p",
    "reason",
}


async def _call(
    hass: HomeAssistant, service: str, entry_id: str, *, response: bool
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        {ATTR_CONFIG_ENTRY: entry_id},
        blocking=True,
        return_response=response,
    )


async def test_optimize_replans_now(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Optimize re-solves at once and, unasked, returns nothing."""
    coordinator = init_integration.runtime_data.plan
    runs_before = len(coordinator.history)
    frozen_now.tick(timedelta(minutes=2))

    response = await _call(
        hass, SERVICE_OPTIMIZE, init_integration.entry_id, response=False
    )

    assert response is None
    assert len(coordinator.history) == runs_before + 1
    assert coordinator.data.generated_at == NOW + timedelta(minutes=2)


async def test_optimize_returns_the_new_plan(
    hass: HomeAssistant,
    frozen_now: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Asked for a response, optimize answers with the plan it just made."""
    frozen_now.tick(timedelta(minutes=2))
    response = await _call(
        hass, SERVICE_OPTIMIZE, init_integration.entry_id, response=True
    )

    assert response["generated_at"] == (NOW + timedelta(minutes=2)).isoformat()
    assert response["status"] == "optimal"
    assert response["slots"][0]["start"] == (NOW + timedelta(minutes=2)).isoformat()


async def test_get_plan_returns_every_slot(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The plan arrives whole: slots with prices, flows, SoC, mode, reason; KPIs."""
    result = init_integration.runtime_data.plan.data
    assert result.plan is not None
    runs_before = len(init_integration.runtime_data.plan.history)

    response = await _call(
        hass, SERVICE_GET_PLAN, init_integration.entry_id, response=True
    )

    # Reading the plan does not solve it again.
    assert len(init_integration.runtime_data.plan.history) == runs_before
    assert response["status"] == "optimal"
    assert response["soc_pct"] == 55.0
    assert response["recommendation"]["mode"] == result.recommendation.mode.value
    assert set(response["kpis"]) == set(Kpis.__dataclass_fields__)
    slots = response["slots"]
    assert len(slots) == len(result.plan.slots) == 97
    for point, slot in zip(slots, result.plan.slots, strict=True):
        assert set(point) == SLOT_FIELDS
        assert point["mode"] == slot.mode.value
        assert point["reason"] == slot.reason
        assert point["soc_pct"] == pytest.approx(slot.soc_end_pct, abs=0.005)
        start = datetime.fromisoformat(point["start"])
        assert point["import_price_p_per_kwh"] == pytest.approx(
            price_at(AGILE_IMPORT, start), abs=5e-4
        )
    for before, after in itertools.pairwise(slots):
        assert before["end"] == after["start"]
    assert slots[0]["start"] == NOW.isoformat()
    assert slots[-1]["end"] == (NOW + timedelta(hours=48)).isoformat()


async def test_get_plan_response_snapshot(
    hass: HomeAssistant, init_integration: MockConfigEntry, snapshot: SnapshotAssertion
) -> None:
    """The response's shape and the first hours of the plan, as users read them."""
    response = await _call(
        hass, SERVICE_GET_PLAN, init_integration.entry_id, response=True
    )
    # The whole horizon is asserted above; the snapshot keeps the first hours.
    response["slots"] = response["slots"][:6]
    assert response == snapshot


async def test_get_plan_needs_a_response(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """get_plan only answers; calling it without asking is an error."""
    with pytest.raises(ServiceValidationError):
        await _call(hass, SERVICE_GET_PLAN, init_integration.entry_id, response=False)


@pytest.mark.parametrize("service", [SERVICE_OPTIMIZE, SERVICE_GET_PLAN])
async def test_unknown_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    """An entry id that is not ours gets a translated error."""
    other = MockConfigEntry(domain="other_domain", entry_id="other")
    other.add_to_hass(hass)
    for entry_id in ("missing", other.entry_id):
        with pytest.raises(ServiceValidationError) as err:
            await _call(hass, service, entry_id, response=True)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "entry_not_found"
        assert err.value.translation_placeholders == {"entry_id": entry_id}


@pytest.mark.parametrize("service", [SERVICE_OPTIMIZE, SERVICE_GET_PLAN])
async def test_unloaded_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry, service: str
) -> None:
    """An unloaded entry gets a translated error instead of a stale plan."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, init_integration.entry_id, response=True)
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"title": init_integration.title}


async def test_optimize_reports_a_failed_plan(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A re-plan that fails says so instead of returning the old plan as new."""
    coordinator = init_integration.runtime_data.plan
    with (
        patch.object(
            coordinator,
            "_async_update_data",
            side_effect=UpdateFailed("prices vanished"),
        ),
        pytest.raises(HomeAssistantError) as raised,
    ):
        await _call(hass, SERVICE_OPTIMIZE, init_integration.entry_id, response=True)
    assert raised.value.translation_key == "optimize_failed"
    assert "prices vanished" in str(raised.value.translation_placeholders)
