"""Key figures of a plan, and its savings against no battery and the rules."""

from __future__ import annotations

from .model import Battery, Inputs, Kpis, Plan, Site


def no_battery_cost_p(inputs: Inputs, site: Site) -> float:
    """Cost of the horizon with load and PV only, pence.

    PV passes the inverter (capped at its AC limit); surplus is exported up to
    the export limit, and none is exported while export pays negative.
    """
    total_p = 0.0
    for t in range(len(inputs)):
        h = inputs.durations_h[t]
        pv_kw = min(inputs.pv_kw[t], site.inverter_ac_limit_kw)
        net_kw = inputs.load_kw[t] - pv_kw
        if net_kw >= 0:
            total_p += inputs.import_price_p_per_kwh[t] * net_kw * h
            continue
        p_exp = inputs.export_price_p_per_kwh[t]
        if p_exp > 0:
            total_p -= p_exp * min(-net_kw, site.export_limit_kw) * h
    return total_p


def _stored_change_value_p(plan: Plan, value_p: float) -> float:
    """Worth of the energy a plan adds to the battery over its horizon."""
    end_kwh = plan.slots[-1].soc_end_kwh if plan.slots else plan.initial_soc_kwh
    return value_p * (end_kwh - plan.initial_soc_kwh)


def compute_kpis(
    plan: Plan, inputs: Inputs, battery: Battery, site: Site, rules_plan: Plan
) -> Kpis:
    """Key figures of a plan, and its savings against no battery and the rules.

    Savings count the change in stored energy at the plan's terminal value, so
    emptying the battery is not mistaken for saving money.
    """
    slots = plan.slots
    import_kwh = sum(s.import_kw * s.duration_h for s in slots)
    export_kwh = sum(s.export_kw * s.duration_h for s in slots)
    throughput_kwh = sum((s.charge_kw + s.discharge_kw) * s.duration_h for s in slots)
    pv_kwh = sum(s.pv_kw * s.duration_h for s in slots)
    # PV that is neither curtailed nor exported stays on site.
    pv_on_site_kwh = sum(
        (s.pv_kw - s.curtail_kw - min(s.export_kw, s.pv_kw - s.curtail_kw))
        * s.duration_h
        for s in slots
    )
    hours = sum(s.duration_h for s in slots)
    value_p = plan.terminal_value_p_per_kwh
    net_cost_p = plan.cost_p - _stored_change_value_p(plan, value_p)
    rules_net_cost_p = rules_plan.cost_p - _stored_change_value_p(rules_plan, value_p)
    cost_no_battery_p = no_battery_cost_p(inputs, site)
    return Kpis(
        cost_p=plan.cost_p,
        import_kwh=import_kwh,
        export_kwh=export_kwh,
        peak_import_kw=max((s.import_kw for s in slots), default=0.0),
        throughput_kwh=throughput_kwh,
        equivalent_cycles=throughput_kwh / (2 * battery.capacity_kwh),
        self_consumption_pct=100 * pv_on_site_kwh / pv_kwh if pv_kwh > 0 else 0.0,
        average_soc_pct=(
            sum(s.soc_end_pct * s.duration_h for s in slots) / hours
            if hours > 0
            else 0.0
        ),
        cost_no_battery_p=cost_no_battery_p,
        cost_rules_p=rules_plan.cost_p,
        savings_vs_no_battery_p=cost_no_battery_p - net_cost_p,
        savings_vs_rules_p=rules_net_cost_p - net_cost_p,
    )
