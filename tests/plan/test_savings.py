"""Savings today and yesterday: recorded energy priced, against no battery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest.mock import AsyncMock, MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.battery_optimizer.const import (
    CONF_EXPORT_LIMIT_KW,
    CONF_GRID_EXPORT_ENERGY_ENTITY,
    CONF_GRID_IMPORT_ENERGY_ENTITY,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    DOMAIN,
)
from custom_components.battery_optimizer.plan.savings import (
    Savings,
    SavingsCoordinator,
    savings_p,
)
from custom_components.battery_optimizer.tariffs.octopus import Rate
from custom_components.battery_optimizer.tariffs.prices import PriceData

START = datetime(2023, 1, 10, 0, 0, tzinfo=UTC)
SLOT = timedelta(minutes=30)


def _flat(price: float) -> object:
    return lambda _when: price


def test_night_charge_used_in_the_evening_saves_the_price_gap() -> None:
    cheap, dear = START, START + SLOT
    # No battery: 1 kWh at 30p in the evening. With it: 1.1 kWh at 10p at night.
    saved = savings_p(
        START,
        START + 2 * SLOT,
        import_kwh={cheap: 1.1, dear: 0.0},
        export_kwh={cheap: 0.0, dear: 0.0},
        load_kwh={cheap: 0.0, dear: 1.0},
        pv_kwh=None,
        import_price=lambda when: 10.0 if when == cheap else 30.0,
        export_price=_flat(5.0),
        export_limit_kw=3.68,
    )
    assert saved == pytest.approx(30.0 - 11.0)


def test_export_without_a_battery_is_capped_by_the_export_limit() -> None:
    # 3 kWh of PV surplus in half an hour is 6 kW: only 1.84 kWh may leave.
    saved = savings_p(
        START,
        START + SLOT,
        import_kwh={START: 0.0},
        export_kwh={START: 1.84},
        load_kwh={START: 0.5},
        pv_kwh={START: 3.5},
        import_price=_flat(20.0),
        export_price=_flat(15.0),
        export_limit_kw=3.68,
    )
    # The battery stored the rest: the same export today, so no saving yet.
    assert saved == pytest.approx(0.0)


def test_negative_export_price_curtails_without_a_battery() -> None:
    saved = savings_p(
        START,
        START + SLOT,
        import_kwh={START: 0.0},
        export_kwh={START: 0.0},
        load_kwh={START: 0.0},
        pv_kwh={START: 1.0},
        import_price=_flat(-5.0),
        export_price=_flat(-2.0),
        export_limit_kw=3.68,
    )
    # Without a battery the PV is curtailed rather than paid away.
    assert saved == pytest.approx(0.0)


def test_half_hours_missing_a_figure_are_left_out() -> None:
    second = START + SLOT
    kwargs = {
        "import_kwh": {START: 1.0},  # nothing recorded for the second half-hour
        "export_kwh": {START: 0.0, second: 0.0},
        "load_kwh": {START: 0.5, second: 0.5},
        "pv_kwh": None,
        "import_price": _flat(20.0),
        "export_price": _flat(5.0),
        "export_limit_kw": 3.68,
    }
    assert savings_p(START, START + 2 * SLOT, **kwargs) == pytest.approx(-10.0)
    assert savings_p(second, second + SLOT, **kwargs) is None


def _prices(start: datetime, hours: int, price: float) -> PriceData:
    rates = tuple(
        Rate(start + k * SLOT, start + (k + 1) * SLOT, price) for k in range(hours * 2)
    )
    return PriceData(
        import_rates=rates,
        export_rates=(),
        fixed_export_p_per_kwh=5.0,
        fetched_at=start,
    )


async def test_coordinator_prices_today_and_yesterday(hass: HomeAssistant) -> None:
    await hass.config.async_set_time_zone("UTC")
    hass.config.components.add("recorder")
    now = datetime(2023, 1, 11, 12, 0, tzinfo=UTC)
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={
            CONF_LOAD_POWER_ENTITY: "sensor.load",
            CONF_PV_POWER_ENTITY: "sensor.pv",
            CONF_EXPORT_LIMIT_KW: 3.68,
        },
        options={
            CONF_GRID_IMPORT_ENERGY_ENTITY: "sensor.grid_in",
            CONF_GRID_EXPORT_ENERGY_ENTITY: "sensor.grid_out",
        },
    )
    entry.add_to_hass(hass)
    prices = AsyncMock()
    prices.data = _prices(datetime(2023, 1, 10, tzinfo=UTC), 48, 20.0)
    slots = [datetime(2023, 1, 10, tzinfo=UTC) + k * SLOT for k in range(72)]
    # The house uses 0.5 kWh each half-hour; the battery covers half of it.
    history = {
        "sensor.grid_in": dict.fromkeys(slots, 0.25),
        "sensor.grid_out": dict.fromkeys(slots, 0.0),
        "sensor.load": dict.fromkeys(slots, 0.5),
        "sensor.pv": dict.fromkeys(slots, 0.0),
    }

    async def fake_history(
        _hass: HomeAssistant,
        entity_id: str,
        _now: datetime,
        _days: int,
        *,
        period: str = "hour",
    ) -> dict[datetime, float]:
        # Half-hour prices need half-hour energy, not hours split in two.
        assert period == "5minute"
        return history[entity_id]

    coordinator = SavingsCoordinator(hass, entry, prices)
    with (
        patch(
            "custom_components.battery_optimizer.plan.savings.async_history_kwh",
            fake_history,
        ),
        patch("homeassistant.util.dt.utcnow", return_value=now),
        patch("homeassistant.util.dt.now", return_value=now),
    ):
        result = await coordinator._async_update_data()

    # 48 half-hours yesterday x 0.25 kWh x 20p = 240p; 24 so far today = 120p.
    assert result == Savings(today_gbp=1.2, yesterday_gbp=2.4)


async def test_coordinator_without_meters_reports_nothing(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={}, options={})
    entry.add_to_hass(hass)
    prices = AsyncMock()
    prices.data = None
    coordinator = SavingsCoordinator(hass, entry, prices)
    assert not coordinator.configured
    assert await coordinator._async_update_data() == Savings(None, None)


@pytest.mark.parametrize(
    ("now", "local_midnight_utc"),
    [
        # Winter: London midnight is midnight UTC.
        (datetime(2023, 1, 11, 15, tzinfo=UTC), datetime(2023, 1, 11, tzinfo=UTC)),
        # Summer time: London midnight is 23:00 UTC the day before.
        (
            datetime(2023, 7, 11, 0, 30, tzinfo=UTC),
            datetime(2023, 7, 10, 23, tzinfo=UTC),
        ),
    ],
)
async def test_todays_savings_restart_at_local_midnight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    now: datetime,
    local_midnight_utc: datetime,
) -> None:
    """The Energy dashboard sums today's savings from the last local midnight."""
    from custom_components.battery_optimizer.sensor import (
        SAVINGS_SENSORS,
        SavingsSensor,
    )

    await hass.config.async_set_time_zone("Europe/London")
    freezer.move_to(now)
    coordinator = MagicMock()
    coordinator.config_entry = MockConfigEntry(domain=DOMAIN, entry_id="abc")
    coordinator.data = Savings(today_gbp=1.25, yesterday_gbp=2.5)
    today, yesterday = (SavingsSensor(coordinator, d) for d in SAVINGS_SENSORS)

    assert today.last_reset == local_midnight_utc
    assert yesterday.last_reset is None
    assert (today.native_value, yesterday.native_value) == (1.25, 2.5)
