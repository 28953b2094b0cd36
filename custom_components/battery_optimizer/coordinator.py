"""The re-plan loop: gather inputs, solve in the executor, publish the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_END_VALUE_PCT,
    CONF_HORIZON_HOURS,
    CONF_LOAD_POWER_ENTITY,
    CONF_PV_POWER_ENTITY,
    CONF_REPLAN_MINUTES,
    CONF_SOC_ENTITY,
    DEFAULT_END_VALUE_PCT,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_REPLAN_MINUTES,
    DOMAIN,
    PRICE_COVERAGE_WINDOW,
    SOC_STALE_AFTER,
    SOLVER_TIME_LIMIT_S,
)
from .entry.issues import (
    async_update_coverage_issue,
    async_update_soc_issue,
    whole_minutes,
)
from .entry.settings import (
    battery_from_entry,
    entry_option,
    settings_from_entry,
    site_from_entry,
)
from .forecasts.reader import ForecastReader
from .inputs.build import SocTracker, build_inputs
from .inputs.states import state_float, state_power_kw
from .optimizer.horizon import slot_grid
from .optimizer.model import InvalidInputError, Kpis, Plan
from .plan.history import RunHistory
from .plan.result import PlanResult, recommend
from .plan.solve import solve_plan
from .tariffs.prices import PriceCoordinator

if TYPE_CHECKING:
    from .control.loop import ControlLoop
    from .plan.savings import SavingsCoordinator

_LOGGER = logging.getLogger(__name__)


type BatteryOptimizerConfigEntry = ConfigEntry[BatteryOptimizerData]


@dataclass(slots=True)
class BatteryOptimizerData:
    """Runtime data of a loaded entry: one coordinator per concern."""

    prices: PriceCoordinator
    plan: PlanCoordinator
    savings: SavingsCoordinator
    # None when the entry only recommends and drives no inverter.
    control: ControlLoop | None = None


def control_of(entry: BatteryOptimizerConfigEntry) -> ControlLoop | None:
    """The entry's control loop; None when it only recommends."""
    return entry.runtime_data.control


class PlanCoordinator(DataUpdateCoordinator[PlanResult]):
    """Re-solves the plan every few minutes and whenever prices change."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        prices: PriceCoordinator,
    ) -> None:
        """Set up the re-plan loop for one config entry."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} plan",
            update_interval=timedelta(
                minutes=entry_option(entry, CONF_REPLAN_MINUTES, DEFAULT_REPLAN_MINUTES)
            ),
        )
        self.prices = prices
        self._soc = SocTracker()
        self._first_update: datetime | None = None
        self._history = RunHistory(hass, entry.entry_id)
        self.forecasts = ForecastReader(hass, entry)

    async def _async_setup(self) -> None:
        """Load the run history kept across restarts."""
        await self._history.async_load()

    @property
    def history(self) -> list[dict[str, Any]]:
        """The last runs, oldest first."""
        return self._history.runs

    async def _async_update_data(self) -> PlanResult:
        """Gather the inputs and solve the plan in the executor."""
        now = dt_util.utcnow()
        entry = self.config_entry
        if self._first_update is None:
            self._first_update = now
        soc_pct, soc_stale = self._soc.read(
            state_float(self.hass, entry.data[CONF_SOC_ENTITY]), now
        )
        # An inverter integration that loads after this one is not a fault:
        # without any reading yet, the silence counts from the first plan.
        missing_since = self._soc.last.at if self._soc.last else self._first_update
        async_update_soc_issue(self.hass, entry, now, soc_stale, missing_since)
        settings = settings_from_entry(entry)
        price_data = self.prices.data
        horizon = timedelta(
            hours=entry_option(entry, CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS)
        )
        grid = slot_grid(now, horizon)
        coverage = price_data.coverage_pct(now, now + horizon) if price_data else 0.0
        coverage_12h = (
            price_data.coverage_pct(now, now + PRICE_COVERAGE_WINDOW)
            if price_data
            else 0.0
        )
        async_update_coverage_issue(self.hass, entry, coverage_12h)
        stale_reason = self._stale_reason(soc_stale, price_data is None)

        forecasts = await self.forecasts.async_forecasts(grid, now)
        inputs = build_inputs(
            grid,
            price_data,
            soc_pct,
            forecasts,
            state_power_kw(self.hass, entry.data.get(CONF_LOAD_POWER_ENTITY)),
            state_power_kw(self.hass, entry.data.get(CONF_PV_POWER_ENTITY)),
            entry_option(entry, CONF_END_VALUE_PCT, DEFAULT_END_VALUE_PCT),
        )
        plan: Plan | None = None
        kpis: Kpis | None = None
        if inputs is not None:
            voltage = state_float(
                self.hass, entry.data.get(CONF_BATTERY_VOLTAGE_ENTITY)
            )
            try:
                solved, kpis = await self.hass.async_add_executor_job(
                    solve_plan,
                    inputs,
                    battery_from_entry(entry, voltage),
                    site_from_entry(entry),
                    settings,
                    SOLVER_TIME_LIMIT_S,
                    dt_util.get_default_time_zone(),
                )
            except InvalidInputError as err:
                raise UpdateFailed(
                    translation_domain=DOMAIN,
                    translation_key="invalid_inputs",
                    translation_placeholders={"error": str(err)},
                ) from err
            self._history.record(now, solved)
            plan = solved
        elif not stale_reason:
            stale_reason = "No published prices cover the current half-hour: self use."

        return PlanResult(
            generated_at=now,
            soc_pct=soc_pct,
            soc_stale=soc_stale,
            plan=plan,
            kpis=kpis,
            recommendation=recommend(plan, soc_stale, stale_reason),
            price_coverage_pct=round(coverage, 1),
            price_coverage_12h_pct=round(coverage_12h, 1),
            prices_end=price_data.import_end if price_data else None,
            settings=settings,
            import_price_now=inputs.import_price_p_per_kwh[0] if inputs else None,
            export_price_now=inputs.export_price_p_per_kwh[0] if inputs else None,
            notes=forecasts.notes,
            load_error_kwh_per_day=forecasts.load_error_kwh_per_day,
        )

    def _stale_reason(self, soc_stale: bool, no_prices: bool) -> str:
        if soc_stale:
            entity_id = self.config_entry.data[CONF_SOC_ENTITY]
            return (
                f"The state of charge from {entity_id} has been unavailable for "
                f"more than {whole_minutes(SOC_STALE_AFTER)} minutes: self use until it "
                "returns."
            )
        if no_prices:
            return "No Agile prices are available yet: self use."
        return ""
