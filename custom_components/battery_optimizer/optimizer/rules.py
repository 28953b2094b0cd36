"""Rule-based planner: the reactive rules a household would otherwise use.

Slot by slot, simulated forward: charge from the grid when the import price is
cheap, discharge (and export) when it is expensive, self use otherwise. It is
the fallback when the LP fails and the baseline that savings are measured
against, so it must be feasible for every valid input and fast.

The inverter is a hybrid: PV and battery sit on its DC side, so its AC power
`pv_kw - curtail_kw + discharge_kw - charge_kw` is bounded by the AC limit in
both directions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, tzinfo
import time

from .model import (
    Battery,
    Inputs,
    Mode,
    Plan,
    PlanStatus,
    RuleSettings,
    Site,
    Slot,
    terminal_value_p_per_kwh,
)

# Energy below this is rounding left by earlier slots, not room to charge or discharge.
_NEGLIGIBLE_KWH = 1e-9


def _room_kwh(energy_kwh: float) -> float:
    return energy_kwh if energy_kwh > _NEGLIGIBLE_KWH else 0.0


@dataclass(frozen=True, slots=True)
class _Flows:
    """Power flows of one slot, kW."""

    import_kw: float = 0.0
    export_kw: float = 0.0
    charge_kw: float = 0.0
    discharge_kw: float = 0.0
    curtail_kw: float = 0.0


def _settle_grid(
    load_kw: float,
    pv_kw: float,
    charge_kw: float,
    discharge_kw: float,
    export_cap_kw: float,
    ac_limit_kw: float,
) -> _Flows:
    """Close the energy balance: clip at the AC limit, import or export, curtail the rest."""
    inverter_ac_kw = pv_kw + discharge_kw - charge_kw
    curtail_kw = max(0.0, inverter_ac_kw - ac_limit_kw)
    inverter_ac_kw -= curtail_kw
    deficit_kw = load_kw - inverter_ac_kw
    if deficit_kw >= 0:
        return _Flows(deficit_kw, 0.0, charge_kw, discharge_kw, curtail_kw)
    export_kw = min(-deficit_kw, export_cap_kw)
    curtail_kw += -deficit_kw - export_kw
    return _Flows(0.0, export_kw, charge_kw, discharge_kw, curtail_kw)


def _self_use(
    load_kw: float,
    pv_kw: float,
    charge_cap_kw: float,
    discharge_cap_kw: float,
    export_cap_kw: float,
    ac_limit_kw: float,
) -> _Flows:
    """Battery covers the house deficit and absorbs PV the house and inverter cannot take."""
    # PV above the AC limit cannot reach the house either, so it is charged too.
    absorb_kw = max(pv_kw - load_kw, pv_kw - ac_limit_kw, 0.0)
    charge_kw = min(charge_cap_kw, absorb_kw)
    discharge_kw = 0.0
    if charge_kw == 0.0:
        headroom_kw = max(0.0, ac_limit_kw - pv_kw)
        discharge_kw = max(0.0, min(discharge_cap_kw, load_kw - pv_kw, headroom_kw))
    return _settle_grid(
        load_kw, pv_kw, charge_kw, discharge_kw, export_cap_kw, ac_limit_kw
    )


def _force_charge(
    load_kw: float,
    pv_kw: float,
    charge_cap_kw: float,
    export_cap_kw: float,
    import_limit_kw: float,
    ac_limit_kw: float,
) -> _Flows:
    """Charge at the limit, from PV first and the grid for the rest."""
    charge_kw = max(
        0.0,
        min(charge_cap_kw, pv_kw + ac_limit_kw, import_limit_kw - load_kw + pv_kw),
    )
    return _settle_grid(load_kw, pv_kw, charge_kw, 0.0, export_cap_kw, ac_limit_kw)


def _force_discharge(
    load_kw: float,
    pv_kw: float,
    discharge_cap_kw: float,
    export_cap_kw: float,
    ac_limit_kw: float,
) -> _Flows:
    """Discharge at the limit, exporting what the house does not use."""
    discharge_kw = max(
        0.0,
        min(discharge_cap_kw, ac_limit_kw - pv_kw, load_kw - pv_kw + export_cap_kw),
    )
    return _settle_grid(load_kw, pv_kw, 0.0, discharge_kw, export_cap_kw, ac_limit_kw)


def plan_rules(
    inputs: Inputs,
    battery: Battery,
    site: Site,
    settings: RuleSettings,
    display_tz: tzinfo = UTC,
) -> Plan:
    """Plan every slot with the reactive cheap/expensive/self-use rules, simulated forward."""
    started = time.perf_counter()
    inputs.validate()
    battery.validate()
    site.validate()

    cheap_p = settings.cheap_price_p_per_kwh
    expensive_p = settings.expensive_price_p_per_kwh
    eta_c = battery.charge_efficiency
    eta_d = battery.discharge_efficiency
    reserve_kwh = battery.reserve_kwh
    max_kwh = battery.max_kwh
    initial_kwh = battery.capacity_kwh * inputs.initial_soc_pct / 100
    stored_kwh = initial_kwh

    slots: list[Slot] = []
    cycle_cost_p = 0.0
    for t in range(len(inputs)):
        hours = inputs.durations_h[t]
        import_p = inputs.import_price_p_per_kwh[t]
        export_p = inputs.export_price_p_per_kwh[t]
        load_kw = inputs.load_kw[t]
        pv_kw = inputs.pv_kw[t]
        # A start outside [reserve, max] only ever moves back towards the band.
        charge_cap_kw = min(
            battery.charge_limit_kw, _room_kwh(max_kwh - stored_kwh) / (eta_c * hours)
        )
        discharge_cap_kw = min(
            battery.discharge_limit_kw,
            _room_kwh(stored_kwh - reserve_kwh) * eta_d / hours,
        )
        # Exporting at a negative price costs money: curtail instead.
        export_cap_kw = site.export_limit_kw if export_p >= 0 else 0.0
        ac_kw = site.inverter_ac_limit_kw

        if import_p <= cheap_p:
            flows = _force_charge(
                load_kw,
                pv_kw,
                charge_cap_kw,
                export_cap_kw,
                site.import_limit_kw,
                ac_kw,
            )
            if flows.charge_kw > 0:
                mode = Mode.FORCE_CHARGE
                reason = (
                    f"Import price {import_p:.1f}p is at or below the cheap threshold "
                    f"{cheap_p:.1f}p: charge from the grid"
                )
            else:
                mode = Mode.HOLD
                reason = (
                    f"Import price {import_p:.1f}p is at or below the cheap threshold "
                    f"{cheap_p:.1f}p but the battery cannot take more: hold it"
                )
        elif import_p >= expensive_p and discharge_cap_kw > 0:
            flows = _force_discharge(
                load_kw, pv_kw, discharge_cap_kw, export_cap_kw, ac_kw
            )
            mode = Mode.FORCE_DISCHARGE
            reason = (
                f"Import price {import_p:.1f}p is at or above the expensive threshold "
                f"{expensive_p:.1f}p: discharge down to the reserve "
                f"{battery.reserve_soc_pct:.0f}%"
            )
            if flows.discharge_kw == 0:
                # Nothing can leave the battery (PV fills the AC or export limit).
                flows = _self_use(
                    load_kw, pv_kw, charge_cap_kw, 0.0, export_cap_kw, ac_kw
                )
                mode = Mode.SELF_USE
                reason += ", but PV already fills the inverter or export limit"
        else:
            flows = _self_use(
                load_kw, pv_kw, charge_cap_kw, discharge_cap_kw, export_cap_kw, ac_kw
            )
            mode = Mode.SELF_USE
            if import_p >= expensive_p:
                reason = (
                    f"Import price {import_p:.1f}p is at or above the expensive "
                    f"threshold {expensive_p:.1f}p but the battery is at its reserve: "
                    "self use"
                )
            else:
                reason = (
                    f"Import price {import_p:.1f}p is between the cheap threshold "
                    f"{cheap_p:.1f}p and the expensive threshold {expensive_p:.1f}p: "
                    "self use"
                )
        if export_p < 0 and flows.curtail_kw > 0:
            reason += f"; export price {export_p:.1f}p is negative, so surplus PV is curtailed"

        stored_kwh += (flows.charge_kw * eta_c - flows.discharge_kw / eta_d) * hours
        cycle_cost_p += (
            battery.cycle_cost_p_per_kwh
            * (flows.charge_kw + flows.discharge_kw)
            * hours
        )
        slots.append(
            Slot(
                start=inputs.starts[t],
                end=inputs.end(t),
                duration_h=hours,
                import_price_p_per_kwh=import_p,
                export_price_p_per_kwh=export_p,
                price_is_forecast=inputs.is_forecast(t),
                load_kw=load_kw,
                pv_kw=pv_kw,
                import_kw=flows.import_kw,
                export_kw=flows.export_kw,
                charge_kw=flows.charge_kw,
                discharge_kw=flows.discharge_kw,
                curtail_kw=flows.curtail_kw,
                soc_end_kwh=stored_kwh,
                soc_end_pct=stored_kwh / battery.capacity_kwh * 100,
                mode=mode,
                charge_current_a=battery.current_a(flows.charge_kw),
                cost_p=(import_p * flows.import_kw - export_p * flows.export_kw)
                * hours,
                reason=reason,
            )
        )

    value_p_per_kwh = terminal_value_p_per_kwh(inputs)
    grid_cost_p = sum(slot.cost_p for slot in slots)
    objective_p = grid_cost_p + cycle_cost_p - value_p_per_kwh * stored_kwh
    first = inputs.starts[0].astimezone(display_tz)
    last = inputs.end(len(inputs) - 1).astimezone(display_tz)
    return Plan(
        slots=tuple(slots),
        status=PlanStatus.RULES,
        objective_p=objective_p,
        solve_ms=(time.perf_counter() - started) * 1000,
        initial_soc_kwh=initial_kwh,
        terminal_value_p_per_kwh=value_p_per_kwh,
        message=(
            f"Reactive rules from {first:%d %b %H:%M} to {last:%d %b %H:%M}: charge at "
            f"or below {cheap_p:.1f}p, discharge at or above {expensive_p:.1f}p"
        ),
    )
