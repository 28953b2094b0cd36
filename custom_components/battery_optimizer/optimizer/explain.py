"""What a plan means to a person: the mode of each slot and the reason for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from .model import Battery, Inputs, Mode, Slot

# Flows below this are treated as zero when naming what a slot does.
ACTIVE_KW = 1e-3
# Energy within this of a bound counts as at the bound.
AT_BOUND_KWH = 1e-3
# Digits kept on flows so solver noise like -1e-9 never shows.
FLOW_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Flows:
    """A solved schedule: mean kW per slot, and stored kWh at each slot boundary.

    `stored_kwh` has one value more than there are slots: the start, then the
    end of each slot.
    """

    import_kw: Sequence[float]
    export_kw: Sequence[float]
    charge_kw: Sequence[float]
    discharge_kw: Sequence[float]
    curtail_kw: Sequence[float]
    stored_kwh: Sequence[float]


def _clean(value: float) -> float:
    """Round away solver noise and never return a negative zero."""
    return round(value, FLOW_DIGITS) + 0.0


def classify_mode(
    *,
    import_kw: float,
    export_kw: float,
    charge_kw: float,
    discharge_kw: float,
    surplus_pv_kw: float,
    start_kwh: float,
    end_kwh: float,
    battery: Battery,
) -> Mode:
    """Inverter mode that carries out one slot's flows.

    `surplus_pv_kw` is PV used (after curtailment) minus house load.
    """
    if charge_kw > ACTIVE_KW and import_kw > ACTIVE_KW:
        return Mode.FORCE_CHARGE
    if discharge_kw > ACTIVE_KW and export_kw > ACTIVE_KW:
        return Mode.FORCE_DISCHARGE
    idle = charge_kw <= ACTIVE_KW and discharge_kw <= ACTIVE_KW
    if (
        idle
        and import_kw > ACTIVE_KW
        and start_kwh > battery.reserve_kwh + AT_BOUND_KWH
    ):
        return Mode.HOLD
    if (
        export_kw > ACTIVE_KW
        and surplus_pv_kw > ACTIVE_KW
        and end_kwh < battery.max_kwh - AT_BOUND_KWH
    ):
        return Mode.FEED_IN_FIRST
    return Mode.SELF_USE


@dataclass(frozen=True, slots=True)
class _Run:
    """Consecutive slots in which the battery discharges, and what that earns."""

    first: int
    last: int
    sold: bool  # most of the energy is exported rather than used at home
    price_p_per_kwh: float  # best export price if sold, else peak import price


def _discharge_runs(inputs: Inputs, rows: Sequence[dict[str, float]]) -> list[_Run]:
    spans: list[tuple[int, int]] = []
    for t, row in enumerate(rows):
        if row["discharge_kw"] <= ACTIVE_KW:
            continue
        if spans and spans[-1][1] == t - 1:
            spans[-1] = (spans[-1][0], t)
        else:
            spans.append((t, t))
    runs: list[_Run] = []
    for first, last in spans:
        slots = range(first, last + 1)
        exported_kwh = sum(
            min(rows[s]["discharge_kw"], rows[s]["export_kw"]) * inputs.durations_h[s]
            for s in slots
        )
        discharged_kwh = sum(
            rows[s]["discharge_kw"] * inputs.durations_h[s] for s in slots
        )
        sold = exported_kwh > discharged_kwh / 2
        prices = (
            inputs.export_price_p_per_kwh if sold else inputs.import_price_p_per_kwh
        )
        runs.append(_Run(first, last, sold, max(prices[s] for s in slots)))
    return runs


class Clock:
    """Formats times in the display time zone, naming the day after the first."""

    def __init__(self, first: datetime, display_tz: tzinfo) -> None:
        """Show times in `display_tz`; `first` sets the day named without a weekday."""
        self._tz = display_tz
        self._first_day = first.astimezone(display_tz).date()

    def at(self, moment: datetime) -> str:
        """A moment as HH:MM, with the weekday when it is not on the first day."""
        local = moment.astimezone(self._tz)
        if local.date() == self._first_day:
            return f"{local:%H:%M}"
        return f"{local:%a %H:%M}"

    def span(self, start: datetime, end: datetime) -> str:
        """A span as start-end, the end as HH:MM."""
        local_end = end.astimezone(self._tz)
        return f"{self.at(start)}-{local_end:%H:%M}"


def _price(p_per_kwh: float) -> str:
    return f"{p_per_kwh:.1f}p"


class _Reasons:
    """Builds each slot's reason from the whole schedule."""

    def __init__(
        self,
        inputs: Inputs,
        battery: Battery,
        rows: list[dict[str, float]],
        modes: list[Mode],
        value_p: float,
        clock: Clock,
    ) -> None:
        self._inputs = inputs
        self._battery = battery
        self._rows = rows
        self._modes = modes
        self._value_p = value_p
        self._clock = clock
        runs = _discharge_runs(inputs, rows)
        # Energy stored at slot t serves the discharge runs after t up to the
        # next charge: the best of them is what the energy is for.
        best_from: list[_Run] = list(runs)
        for k in range(len(runs) - 2, -1, -1):
            charged_between = any(
                row["charge_kw"] > ACTIVE_KW
                for row in rows[runs[k].last + 1 : runs[k + 1].first]
            )
            later = best_from[k + 1]
            if not charged_between and later.price_p_per_kwh > runs[k].price_p_per_kwh:
                best_from[k] = later
        self._best_run: list[_Run | None] = [None] * len(rows)
        k = len(runs)
        for t in range(len(rows) - 1, -1, -1):
            self._best_run[t] = best_from[k] if k < len(runs) else None
            if k > 0 and runs[k - 1].first == t:
                k -= 1

    def _use_of_stored_energy(self, t: int) -> str:
        """Say what the energy held at slot t is for."""
        run = self._best_run[t]
        if run is None:
            return (
                f"stored energy is worth {_price(self._value_p)} at the end of the plan"
            )
        inputs = self._inputs
        span = self._clock.span(inputs.starts[run.first], inputs.end(run.last))
        if run.sold:
            return f"the energy is sold {span} at up to {_price(run.price_p_per_kwh)}"
        return f"the energy covers the {span} peak at {_price(run.price_p_per_kwh)}"

    def reason(self, t: int) -> str:
        """Say in one sentence why slot t does what it does."""
        inputs, row, mode = self._inputs, self._rows[t], self._modes[t]
        p_imp = inputs.import_price_p_per_kwh[t]
        p_exp = inputs.export_price_p_per_kwh[t]
        if mode is Mode.FORCE_CHARGE:
            head = f"Charge from the grid at {_price(p_imp)}"
            if p_imp < 0:
                return f"{head}: importing is paid"
            if row["start_kwh"] < self._battery.reserve_kwh - AT_BOUND_KWH:
                return (
                    f"{head}: the battery is below its "
                    f"{self._battery.reserve_soc_pct:.0f}% reserve"
                )
            return f"{head}: {self._use_of_stored_energy(t)}"
        if mode is Mode.FORCE_DISCHARGE:
            head = f"Sell battery energy at {_price(p_exp)}"
            refill = next(
                (
                    s
                    for s in range(t + 1, len(self._modes))
                    if self._modes[s] is Mode.FORCE_CHARGE
                ),
                None,
            )
            if refill is None:
                return f"{head}: the best price left for it in the plan"
            refill_p = inputs.import_price_p_per_kwh[refill]
            when = self._clock.at(inputs.starts[refill])
            return f"{head}: it is refilled at {_price(refill_p)} from {when}"
        if mode is Mode.HOLD:
            soc_pct = 100 * row["start_kwh"] / self._battery.capacity_kwh
            return (
                f"Hold the battery at {soc_pct:.0f}%: {self._use_of_stored_energy(t)}; "
                f"the grid costs {_price(p_imp)} now"
            )
        if mode is Mode.FEED_IN_FIRST:
            if row["charge_kw"] > ACTIVE_KW:
                return (
                    f"Export solar at {_price(p_exp)} first; the battery takes the rest"
                )
            return (
                f"Export surplus solar at {_price(p_exp)}: worth more now than stored"
            )
        return self._self_use_reason(t, p_imp, p_exp)

    def _self_use_reason(self, t: int, p_imp: float, p_exp: float) -> str:
        row = self._rows[t]
        if row["curtail_kw"] > ACTIVE_KW:
            if p_exp < 0:
                return f"Curtail solar: exporting costs {_price(-p_exp)}"
            return "Curtail solar: the export limit is reached and the battery can take no more"
        if row["discharge_kw"] > ACTIVE_KW:
            return f"Battery covers the house instead of importing at {_price(p_imp)}"
        if row["charge_kw"] > ACTIVE_KW:
            return "Store surplus solar in the battery"
        if row["export_kw"] > ACTIVE_KW:
            return f"Battery full: export surplus solar at {_price(p_exp)}"
        if row["import_kw"] > ACTIVE_KW:
            return f"Battery at its reserve: the house runs from the grid at {_price(p_imp)}"
        return "Solar covers the house"


def build_slots(
    inputs: Inputs,
    battery: Battery,
    flows: Flows,
    terminal_value_p_per_kwh: float,
    display_tz: tzinfo,
) -> tuple[Slot, ...]:
    """Turn a solved schedule into plan slots with modes, costs and reasons."""
    rows: list[dict[str, float]] = []
    modes: list[Mode] = []
    for t in range(len(inputs)):
        row = {
            "import_kw": max(0.0, _clean(flows.import_kw[t])),
            "export_kw": max(0.0, _clean(flows.export_kw[t])),
            "charge_kw": max(0.0, _clean(flows.charge_kw[t])),
            "discharge_kw": max(0.0, _clean(flows.discharge_kw[t])),
            "curtail_kw": max(0.0, _clean(flows.curtail_kw[t])),
            "start_kwh": flows.stored_kwh[t],
            "end_kwh": max(0.0, _clean(flows.stored_kwh[t + 1])),
        }
        rows.append(row)
        modes.append(
            classify_mode(
                import_kw=row["import_kw"],
                export_kw=row["export_kw"],
                charge_kw=row["charge_kw"],
                discharge_kw=row["discharge_kw"],
                surplus_pv_kw=inputs.pv_kw[t] - row["curtail_kw"] - inputs.load_kw[t],
                start_kwh=row["start_kwh"],
                end_kwh=row["end_kwh"],
                battery=battery,
            )
        )
    reasons = _Reasons(
        inputs,
        battery,
        rows,
        modes,
        terminal_value_p_per_kwh,
        Clock(inputs.starts[0], display_tz),
    )
    slots: list[Slot] = []
    for t, row in enumerate(rows):
        h = inputs.durations_h[t]
        p_imp = inputs.import_price_p_per_kwh[t]
        p_exp = inputs.export_price_p_per_kwh[t]
        slots.append(
            Slot(
                start=inputs.starts[t],
                end=inputs.end(t),
                duration_h=h,
                import_price_p_per_kwh=p_imp,
                export_price_p_per_kwh=p_exp,
                price_is_forecast=inputs.is_forecast(t),
                load_kw=inputs.load_kw[t],
                pv_kw=inputs.pv_kw[t],
                import_kw=row["import_kw"],
                export_kw=row["export_kw"],
                charge_kw=row["charge_kw"],
                discharge_kw=row["discharge_kw"],
                curtail_kw=row["curtail_kw"],
                soc_end_kwh=row["end_kwh"],
                soc_end_pct=round(100 * row["end_kwh"] / battery.capacity_kwh, 2) + 0.0,
                mode=modes[t],
                charge_current_a=round(battery.current_a(row["charge_kw"]), 1) + 0.0,
                cost_p=_clean(
                    (p_imp * row["import_kw"] - p_exp * row["export_kw"]) * h
                ),
                reason=reasons.reason(t),
            )
        )
    return tuple(slots)
