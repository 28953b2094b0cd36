"""The re-plan loop: gather inputs, solve in the executor, publish the plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import math
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import PowerConverter

from .const import (
    CONF_BATTERY_VOLTAGE_ENTITY,
    CONF_CAPACITY_KWH,
    CONF_CHARGE_LIMIT_KW,
    CONF_CHEAP_THRESHOLD,
    CONF_CYCLE_COST,
    CONF_DISCHARGE_LIMIT_KW,
    CONF_EFFICIENCY_PCT,
    CONF_END_VALUE_PCT,
    CONF_EXPENSIVE_THRESHOLD,
    CONF_EXPORT_LIMIT_KW,
    CONF_HORIZON_HOURS,
    CONF_LOAD_POWER_ENTITY,
    CONF_MAX_SOC_PCT,
    CONF_PV_POWER_ENTITY,
    CONF_REPLAN_MINUTES,
    CONF_RESERVE_SOC_PCT,
    CONF_SOC_ENTITY,
    DEFAULT_CHEAP_THRESHOLD,
    DEFAULT_CYCLE_COST,
    DEFAULT_EFFICIENCY_PCT,
    DEFAULT_END_VALUE_PCT,
    DEFAULT_EXPENSIVE_THRESHOLD,
    DEFAULT_EXPORT_LIMIT_KW,
    DEFAULT_HORIZON_HOURS,
    DEFAULT_MAX_SOC_PCT,
    DEFAULT_NOMINAL_VOLTAGE_V,
    DEFAULT_REPLAN_MINUTES,
    DEFAULT_RESERVE_SOC_PCT,
    DOMAIN,
    ISSUE_PRICE_COVERAGE,
    ISSUE_SOC_UNAVAILABLE,
    PRICE_COVERAGE_MIN_PCT,
    PRICE_COVERAGE_WINDOW,
    SOC_STALE_AFTER,
    SOLVER_TIME_LIMIT_S,
)
from .forecasts.reader import ForecastReader, Forecasts
from .inputs.states import state_float
from .optimizer.horizon import slot_grid
from .optimizer.model import (
    Battery,
    Inputs,
    InvalidInputError,
    Kpis,
    Plan,
    RuleSettings,
    Site,
)
from .plan.history import RunHistory
from .plan.result import PlanResult, recommend
from .plan.solve import solve_plan
from .tariffs.prices import PriceCoordinator, PriceData

if TYPE_CHECKING:
    from .control.loop import ControlLoop
    from .plan.savings import SavingsCoordinator

_LOGGER = logging.getLogger(__name__)

# A house fuse of 60-100 A allows 14-23 kW; the lower figure keeps plans safe.
IMPORT_LIMIT_KW = 14.0


@dataclass(slots=True)
class _SocReading:
    pct: float
    at: datetime


def _minutes(span: timedelta) -> int:
    return round(span.total_seconds() / 60)


def _option(entry: ConfigEntry, key: str, default: float) -> float:
    return float(entry.options.get(key, entry.data.get(key, default)))


def battery_from_entry(entry: ConfigEntry, voltage_v: float | None) -> Battery:
    """Build the optimizer's battery from the entry's settings."""
    one_way = math.sqrt(
        float(entry.data.get(CONF_EFFICIENCY_PCT, DEFAULT_EFFICIENCY_PCT)) / 100
    )
    return Battery(
        capacity_kwh=float(entry.data[CONF_CAPACITY_KWH]),
        charge_limit_kw=float(entry.data[CONF_CHARGE_LIMIT_KW]),
        discharge_limit_kw=float(entry.data[CONF_DISCHARGE_LIMIT_KW]),
        charge_efficiency=one_way,
        discharge_efficiency=one_way,
        reserve_soc_pct=float(
            entry.data.get(CONF_RESERVE_SOC_PCT, DEFAULT_RESERVE_SOC_PCT)
        ),
        max_soc_pct=float(entry.data.get(CONF_MAX_SOC_PCT, DEFAULT_MAX_SOC_PCT)),
        cycle_cost_p_per_kwh=_option(entry, CONF_CYCLE_COST, DEFAULT_CYCLE_COST),
        nominal_voltage_v=voltage_v or DEFAULT_NOMINAL_VOLTAGE_V,
    )


def site_from_entry(entry: ConfigEntry) -> Site:
    """Build the grid connection limits from the entry's settings."""
    export_limit = float(entry.data.get(CONF_EXPORT_LIMIT_KW, DEFAULT_EXPORT_LIMIT_KW))
    battery_kw = max(
        float(entry.data[CONF_CHARGE_LIMIT_KW]),
        float(entry.data[CONF_DISCHARGE_LIMIT_KW]),
    )
    return Site(
        import_limit_kw=IMPORT_LIMIT_KW,
        export_limit_kw=export_limit,
        inverter_ac_limit_kw=max(battery_kw, export_limit),
    )


def settings_from_entry(entry: ConfigEntry) -> RuleSettings:
    """Price thresholds of the rules and of the price level."""
    return RuleSettings(
        cheap_price_p_per_kwh=_option(
            entry, CONF_CHEAP_THRESHOLD, DEFAULT_CHEAP_THRESHOLD
        ),
        expensive_price_p_per_kwh=_option(
            entry, CONF_EXPENSIVE_THRESHOLD, DEFAULT_EXPENSIVE_THRESHOLD
        ),
    )


type BatteryOptimizerConfigEntry = ConfigEntry[BatteryOptimizerData]


@dataclass(slots=True)
class BatteryOptimizerData:
    """Runtime data of a loaded entry: one coordinator per concern."""

    prices: PriceCoordinator
    plan: PlanCoordinator
    savings: SavingsCoordinator
    # None when the entry only recommends and drives no inverter.
    control: ControlLoop | None = None


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
                minutes=_option(entry, CONF_REPLAN_MINUTES, DEFAULT_REPLAN_MINUTES)
            ),
        )
        self.prices = prices
        self._last_soc: _SocReading | None = None
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
        soc_pct, soc_stale = self._read_soc(now)
        self._update_soc_issue(now, soc_stale)
        settings = settings_from_entry(entry)
        price_data = self.prices.data
        horizon = timedelta(
            hours=_option(entry, CONF_HORIZON_HOURS, DEFAULT_HORIZON_HOURS)
        )
        grid = slot_grid(now, horizon)
        coverage = price_data.coverage_pct(now, now + horizon) if price_data else 0.0
        coverage_12h = (
            price_data.coverage_pct(now, now + PRICE_COVERAGE_WINDOW)
            if price_data
            else 0.0
        )
        self._update_coverage_issue(coverage_12h)
        stale_reason = self._stale_reason(soc_stale, price_data is None)

        forecasts = await self.forecasts.async_forecasts(grid, now)
        inputs = self._build_inputs(grid, price_data, soc_pct, forecasts)
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

    def _read_power_kw(self, entity_id: str | None) -> float | None:
        """Power of an entity in kW, whatever unit it reports."""
        value = state_float(self.hass, entity_id)
        if value is None or entity_id is None:
            return None
        state = self.hass.states.get(entity_id)
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) if state else None
        if unit not in PowerConverter.VALID_UNITS:
            # A power without a known unit would put a wrong figure in the plan.
            return None
        return PowerConverter.convert(value, unit, UnitOfPower.KILO_WATT)

    def _read_soc(self, now: datetime) -> tuple[float | None, bool]:
        """SoC now, or the last known one while it is fresh enough; and staleness."""
        value = state_float(self.hass, self.config_entry.data[CONF_SOC_ENTITY])
        if value is not None and 0 <= value <= 100:
            self._last_soc = _SocReading(value, now)
            return value, False
        if self._last_soc is None:
            return None, True
        stale = now - self._last_soc.at > SOC_STALE_AFTER
        return self._last_soc.pct, stale

    def _stale_reason(self, soc_stale: bool, no_prices: bool) -> str:
        if soc_stale:
            entity_id = self.config_entry.data[CONF_SOC_ENTITY]
            return (
                f"The state of charge from {entity_id} has been unavailable for "
                f"more than {_minutes(SOC_STALE_AFTER)} minutes: self use until it "
                "returns."
            )
        if no_prices:
            return "No Agile prices are available yet: self use."
        return ""

    def _build_inputs(
        self,
        grid: list[tuple[datetime, float]],
        price_data: PriceData | None,
        soc_pct: float | None,
        forecasts: Forecasts,
    ) -> Inputs | None:
        """Inputs for the slots that have a published import price."""
        if price_data is None or soc_pct is None or not grid:
            return None
        starts = [start for start, _ in grid]
        import_p = price_data.import_prices(starts)
        export_p = price_data.export_prices(starts)
        # The plan ends at the last published price; it states that in prices_end.
        count = 0
        while count < len(grid) and import_p[count] is not None:
            count += 1
        if count == 0:
            return None
        entry = self.config_entry
        load = list(forecasts.load_kw[:count])
        pv = list(forecasts.pv_kw[:count])
        # What the house does now beats any forecast for the slot under way.
        if (
            load_now := self._read_power_kw(entry.data.get(CONF_LOAD_POWER_ENTITY))
        ) is not None:
            load[0] = max(load_now, 0.0)
        if (
            pv_now := self._read_power_kw(entry.data.get(CONF_PV_POWER_ENTITY))
        ) is not None:
            pv[0] = max(pv_now, 0.0)
        end_value_pct = _option(entry, CONF_END_VALUE_PCT, DEFAULT_END_VALUE_PCT)
        known = [p for p in import_p[:count] if p is not None]
        return Inputs(
            starts=tuple(starts[:count]),
            durations_h=tuple(hours for _, hours in grid[:count]),
            import_price_p_per_kwh=tuple(known),
            export_price_p_per_kwh=tuple(
                0.0 if p is None else p for p in export_p[:count]
            ),
            pv_kw=tuple(pv),
            load_kw=tuple(load),
            initial_soc_pct=soc_pct,
            terminal_value_p_per_kwh=max(
                0.0, end_value_pct / 100 * sum(known) / len(known)
            ),
        )

    def _update_soc_issue(self, now: datetime, stale: bool) -> None:
        issue_id = f"{ISSUE_SOC_UNAVAILABLE}_{self.config_entry.entry_id}"
        if not stale:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        # An inverter integration that loads after this one is not a fault:
        # without any reading yet, the silence counts from the first plan.
        missing_since = self._last_soc.at if self._last_soc else self._first_update
        if missing_since is not None and now - missing_since <= SOC_STALE_AFTER:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_SOC_UNAVAILABLE,
            translation_placeholders={
                "entity_id": self.config_entry.data[CONF_SOC_ENTITY],
                "title": self.config_entry.title,
                "minutes": str(_minutes(SOC_STALE_AFTER)),
            },
        )

    def _update_coverage_issue(self, coverage_12h: float) -> None:
        issue_id = f"{ISSUE_PRICE_COVERAGE}_{self.config_entry.entry_id}"
        if coverage_12h >= PRICE_COVERAGE_MIN_PCT:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_PRICE_COVERAGE,
            translation_placeholders={
                "coverage": f"{coverage_12h:.0f}",
                "title": self.config_entry.title,
            },
        )
