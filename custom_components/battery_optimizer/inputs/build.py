"""The optimizer's inputs, from prices, forecasts and the readings of now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..const import SOC_STALE_AFTER
from ..optimizer.model import Inputs

if TYPE_CHECKING:
    from ..forecasts.reader import Forecasts
    from ..tariffs.prices import PriceData


@dataclass(slots=True)
class _SocReading:
    pct: float
    at: datetime


class SocTracker:
    """The state of charge, with the last good reading held while it is fresh."""

    def __init__(self) -> None:
        """Start with no reading."""
        self.last: _SocReading | None = None

    def read(self, value: float | None, now: datetime) -> tuple[float | None, bool]:
        """SoC now, or the last known one while it is fresh enough; and staleness."""
        if value is not None and 0 <= value <= 100:
            self.last = _SocReading(value, now)
            return value, False
        if self.last is None:
            return None, True
        stale = now - self.last.at > SOC_STALE_AFTER
        return self.last.pct, stale


def build_inputs(
    grid: list[tuple[datetime, float]],
    price_data: PriceData | None,
    soc_pct: float | None,
    forecasts: Forecasts,
    load_now_kw: float | None,
    pv_now_kw: float | None,
    end_value_pct: float,
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
    load = list(forecasts.load_kw[:count])
    pv = list(forecasts.pv_kw[:count])
    # What the house does now beats any forecast for the slot under way.
    if load_now_kw is not None:
        load[0] = max(load_now_kw, 0.0)
    if pv_now_kw is not None:
        pv[0] = max(pv_now_kw, 0.0)
    known = [p for p in import_p[:count] if p is not None]
    return Inputs(
        starts=tuple(starts[:count]),
        durations_h=tuple(hours for _, hours in grid[:count]),
        import_price_p_per_kwh=tuple(known),
        export_price_p_per_kwh=tuple(0.0 if p is None else p for p in export_p[:count]),
        pv_kw=tuple(pv),
        load_kw=tuple(load),
        initial_soc_pct=soc_pct,
        terminal_value_p_per_kwh=max(
            0.0, end_value_pct / 100 * sum(known) / len(known)
        ),
    )
