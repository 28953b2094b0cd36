"""The limits a plan runs into, named for a person, with their times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from .explain import ACTIVE_KW, AT_BOUND_KWH, Clock
from .model import Battery, Site, Slot


def _limits_reached(slot: Slot, battery: Battery, site: Site) -> list[str]:
    """Names of the limits slot sits at; a limit of zero is never reported."""

    def at_limit(flow_kw: float, limit_kw: float) -> bool:
        return limit_kw > 0 and flow_kw >= limit_kw - ACTIVE_KW

    reached = []
    if slot.soc_end_kwh >= battery.max_kwh - AT_BOUND_KWH:
        reached.append("battery full")
    elif slot.soc_end_kwh <= battery.reserve_kwh + AT_BOUND_KWH:
        reached.append("battery at reserve")
    ac_kw = slot.pv_kw - slot.curtail_kw + slot.discharge_kw - slot.charge_kw
    for name, flow_kw, limit_kw in (
        ("charge limit", slot.charge_kw, battery.charge_limit_kw),
        ("discharge limit", slot.discharge_kw, battery.discharge_limit_kw),
        ("export limit", slot.export_kw, site.export_limit_kw),
        ("import limit", slot.import_kw, site.import_limit_kw),
        ("inverter limit", abs(ac_kw), site.inverter_ac_limit_kw),
    ):
        if at_limit(flow_kw, limit_kw):
            reached.append(name)
    return reached


def binding_constraints(
    slots: Sequence[Slot], battery: Battery, site: Site, display_tz: tzinfo
) -> tuple[str, ...]:
    """Limits the plan runs into, as "export limit 12:00-14:30", in time order."""
    if not slots:
        return ()
    open_runs: dict[str, tuple[int, int]] = {}
    closed: list[tuple[int, str, int]] = []
    for t, slot in enumerate(slots):
        reached = set(_limits_reached(slot, battery, site))
        for name in [n for n in open_runs if n not in reached]:
            first, last = open_runs.pop(name)
            closed.append((first, name, last))
        for name in reached:
            first, _ = open_runs.get(name, (t, t))
            open_runs[name] = (first, t)
    closed.extend((first, name, last) for name, (first, last) in open_runs.items())
    clock = Clock(slots[0].start, display_tz)
    return tuple(
        f"{name} {clock.span(slots[first].start, slots[last].end)}"
        for first, name, last in sorted(closed)
    )
