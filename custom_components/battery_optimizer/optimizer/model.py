"""Data model of the optimizer: battery, site, inputs and the resulting plan.

Units are part of every name: kW for power, kWh for energy, p/kWh for prices
(pence including VAT), % for state of charge, hours for slot lengths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math


class InvalidInputError(ValueError):
    """Raised when optimizer inputs are invalid; `field` names the culprit."""

    def __init__(self, field_name: str, message: str) -> None:
        """Store the offending field and build a readable message."""
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


class Mode(StrEnum):
    """Inverter work mode a slot maps to."""

    SELF_USE = "self_use"
    FORCE_CHARGE = "force_charge"
    FORCE_DISCHARGE = "force_discharge"
    HOLD = "hold"
    FEED_IN_FIRST = "feed_in_first"


class PlanStatus(StrEnum):
    """How the plan was obtained."""

    OPTIMAL = "optimal"
    FALLBACK_TIMEOUT = "fallback_timeout"
    FALLBACK_INFEASIBLE = "fallback_infeasible"
    FALLBACK_ERROR = "fallback_error"
    RULES = "rules"


def _require_finite(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(name, f"must be a finite number, got {value!r}")


# A common low-voltage home battery (16 LFP cells): the voltage that turns
# power into a charge current when the inverter reports none.
DEFAULT_NOMINAL_VOLTAGE_V = 51.2


@dataclass(frozen=True, slots=True)
class Battery:
    """A home battery behind a hybrid inverter."""

    capacity_kwh: float
    charge_limit_kw: float
    discharge_limit_kw: float
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    reserve_soc_pct: float = 10.0
    max_soc_pct: float = 100.0
    cycle_cost_p_per_kwh: float = 0.0
    nominal_voltage_v: float = DEFAULT_NOMINAL_VOLTAGE_V

    def validate(self) -> None:
        """Raise InvalidInputError if any field is out of range."""
        for name in (
            "capacity_kwh",
            "charge_limit_kw",
            "discharge_limit_kw",
            "charge_efficiency",
            "discharge_efficiency",
            "reserve_soc_pct",
            "max_soc_pct",
            "cycle_cost_p_per_kwh",
            "nominal_voltage_v",
        ):
            _require_finite(name, getattr(self, name))
        if self.capacity_kwh <= 0:
            raise InvalidInputError("capacity_kwh", "must be greater than 0")
        if self.charge_limit_kw < 0 or self.discharge_limit_kw < 0:
            name = (
                "charge_limit_kw" if self.charge_limit_kw < 0 else "discharge_limit_kw"
            )
            raise InvalidInputError(name, "must not be negative")
        for name in ("charge_efficiency", "discharge_efficiency"):
            if not 0 < getattr(self, name) <= 1:
                raise InvalidInputError(name, "must be in (0, 1]")
        if not 0 <= self.reserve_soc_pct <= 100:
            raise InvalidInputError("reserve_soc_pct", "must be between 0 and 100")
        if not 0 < self.max_soc_pct <= 100:
            raise InvalidInputError("max_soc_pct", "must be between 0 and 100")
        if self.reserve_soc_pct > self.max_soc_pct:
            raise InvalidInputError("reserve_soc_pct", "must not exceed max_soc_pct")
        if self.cycle_cost_p_per_kwh < 0:
            raise InvalidInputError("cycle_cost_p_per_kwh", "must not be negative")
        if self.nominal_voltage_v <= 0:
            raise InvalidInputError("nominal_voltage_v", "must be greater than 0")

    @property
    def reserve_kwh(self) -> float:
        """Energy at the reserve SoC."""
        return self.capacity_kwh * self.reserve_soc_pct / 100

    @property
    def max_kwh(self) -> float:
        """Energy at the maximum SoC."""
        return self.capacity_kwh * self.max_soc_pct / 100

    def current_a(self, power_kw: float) -> float:
        """Battery current in A for a battery power in kW at the nominal voltage."""
        return power_kw * 1000 / self.nominal_voltage_v


@dataclass(frozen=True, slots=True)
class Site:
    """Grid connection and inverter limits."""

    import_limit_kw: float = 15.0
    export_limit_kw: float = 3.68
    inverter_ac_limit_kw: float = 5.0

    def validate(self) -> None:
        """Raise InvalidInputError if any limit is negative or not finite."""
        for name in ("import_limit_kw", "export_limit_kw", "inverter_ac_limit_kw"):
            value = getattr(self, name)
            _require_finite(name, value)
            if value < 0:
                raise InvalidInputError(name, "must not be negative")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Time-indexed series for one planning run; index t is slot t.

    The first slot may be partial (from now to the next half-hour boundary).
    `price_is_forecast[t]` is true where the price was not yet published.
    `terminal_value_p_per_kwh` values each kWh left in the battery at the end of
    the horizon; None lets the planner derive it from the prices.
    """

    starts: tuple[datetime, ...]
    durations_h: tuple[float, ...]
    import_price_p_per_kwh: tuple[float, ...]
    export_price_p_per_kwh: tuple[float, ...]
    pv_kw: tuple[float, ...]
    load_kw: tuple[float, ...]
    initial_soc_pct: float
    price_is_forecast: tuple[bool, ...] = ()
    terminal_value_p_per_kwh: float | None = None

    def __len__(self) -> int:
        """Number of slots."""
        return len(self.starts)

    def end(self, t: int) -> datetime:
        """End time of slot t."""
        return self.starts[t] + timedelta(hours=self.durations_h[t])

    def validate(self) -> None:
        """Raise InvalidInputError naming the first invalid field."""
        n = len(self.starts)
        if n == 0:
            raise InvalidInputError("starts", "at least one slot is required")
        series: dict[str, tuple[float, ...]] = {
            "durations_h": self.durations_h,
            "import_price_p_per_kwh": self.import_price_p_per_kwh,
            "export_price_p_per_kwh": self.export_price_p_per_kwh,
            "pv_kw": self.pv_kw,
            "load_kw": self.load_kw,
        }
        for name, values in series.items():
            if len(values) != n:
                raise InvalidInputError(
                    name, f"has {len(values)} values but there are {n} slots"
                )
            for t, value in enumerate(values):
                if value is None or not math.isfinite(value):
                    raise InvalidInputError(
                        name, f"slot {t} is missing or not a number ({value!r})"
                    )
        if self.price_is_forecast and len(self.price_is_forecast) != n:
            raise InvalidInputError(
                "price_is_forecast",
                f"has {len(self.price_is_forecast)} values but there are {n} slots",
            )
        for t, hours in enumerate(self.durations_h):
            if hours <= 0:
                raise InvalidInputError(
                    "durations_h", f"slot {t} must be longer than 0"
                )
        for name in ("pv_kw", "load_kw"):
            for t, value in enumerate(series[name]):
                if value < 0:
                    raise InvalidInputError(name, f"slot {t} must not be negative")
        _require_finite("initial_soc_pct", self.initial_soc_pct)
        if not 0 <= self.initial_soc_pct <= 100:
            raise InvalidInputError("initial_soc_pct", "must be between 0 and 100")
        if self.terminal_value_p_per_kwh is not None:
            _require_finite("terminal_value_p_per_kwh", self.terminal_value_p_per_kwh)
        for t in range(1, n):
            if self.starts[t] <= self.starts[t - 1]:
                raise InvalidInputError(
                    "starts", f"slot {t} does not follow slot {t - 1}"
                )

    def is_forecast(self, t: int) -> bool:
        """Whether slot t's price is a forecast rather than published."""
        return bool(self.price_is_forecast) and self.price_is_forecast[t]


@dataclass(frozen=True, slots=True)
class Slot:
    """One slot of a plan: flows are mean kW over the slot."""

    start: datetime
    end: datetime
    duration_h: float
    import_price_p_per_kwh: float
    export_price_p_per_kwh: float
    price_is_forecast: bool
    load_kw: float
    pv_kw: float
    import_kw: float
    export_kw: float
    charge_kw: float
    discharge_kw: float
    curtail_kw: float
    soc_end_kwh: float
    soc_end_pct: float
    mode: Mode
    charge_current_a: float
    cost_p: float
    reason: str = ""

    @property
    def battery_kw(self) -> float:
        """Net battery power: positive charging, negative discharging."""
        return self.charge_kw - self.discharge_kw


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of one planning run."""

    slots: tuple[Slot, ...]
    status: PlanStatus
    objective_p: float
    solve_ms: float
    initial_soc_kwh: float
    terminal_value_p_per_kwh: float
    binding_constraints: tuple[str, ...] = ()
    stored_energy_value_p_per_kwh: float | None = None
    message: str = ""

    @property
    def is_fallback(self) -> bool:
        """Whether the rules answered instead of the LP."""
        return self.status not in (PlanStatus.OPTIMAL,)

    @property
    def cost_p(self) -> float:
        """Sum of slot costs (import paid minus export earned), pence."""
        return sum(slot.cost_p for slot in self.slots)


@dataclass(frozen=True, slots=True)
class Kpis:
    """Key figures of a plan over its horizon; money in pence."""

    cost_p: float
    import_kwh: float
    export_kwh: float
    peak_import_kw: float
    throughput_kwh: float
    equivalent_cycles: float
    self_consumption_pct: float
    average_soc_pct: float
    cost_no_battery_p: float
    cost_rules_p: float
    savings_vs_no_battery_p: float
    savings_vs_rules_p: float


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Thresholds of the reactive rules (and of the price level shown to users)."""

    cheap_price_p_per_kwh: float = 10.0
    expensive_price_p_per_kwh: float = 25.0


# Share of the mean import price that a kWh left in the battery is worth at the
# horizon end when the caller gives no value: refilling it later costs about
# the mean price, less what the round trip loses.
TERMINAL_VALUE_SHARE_OF_MEAN_IMPORT = 0.8


def terminal_value_p_per_kwh(inputs: Inputs) -> float:
    """Value of a kWh left at the horizon end: given, or 0.8 x mean import price; >= 0."""
    if inputs.terminal_value_p_per_kwh is not None:
        return max(0.0, inputs.terminal_value_p_per_kwh)
    prices = inputs.import_price_p_per_kwh
    return max(0.0, TERMINAL_VALUE_SHARE_OF_MEAN_IMPORT * sum(prices) / len(prices))
