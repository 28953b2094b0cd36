"""Demo price source: one real Agile week, replayed as if it were now.

Used only by entries created for the development demo (their data says so), so
the integration shows a working plan on a machine that cannot reach Octopus.
"""

from __future__ import annotations

from collections.abc import Callable
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..optimizer.horizon import published_until
from .octopus import AgileProducts, Rate

DEMO_PRICES_FILE = Path(__file__).with_name("demo_prices.csv")
DEMO_IMPORT_PRODUCT = "DEMO-AGILE"
DEMO_EXPORT_PRODUCT = "DEMO-AGILE-OUTGOING"
SLOT = timedelta(minutes=30)
WEEK = timedelta(days=7)
# Tomorrow's prices appear at 16:00 London and run to 23:00 London the next day.


@dataclass(frozen=True, slots=True)
class _WeekPrices:
    first_start: datetime
    import_p: tuple[float, ...]
    export_p: tuple[float, ...]


def _read_week(path: Path) -> _WeekPrices:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    first = datetime.fromisoformat(rows[0]["start"].replace("Z", "+00:00"))
    return _WeekPrices(
        first_start=first,
        import_p=tuple(float(row["import_p_per_kwh"]) for row in rows),
        export_p=tuple(float(row["export_p_per_kwh"]) for row in rows),
    )


class DemoPriceClient:
    """Serves the stored week's prices at the same weekday and time of day as now."""

    def __init__(self, week: _WeekPrices, now: Callable[[], datetime]) -> None:
        """Keep the week of prices and the clock that decides what is published."""
        self._week = week
        self._now = now

    @classmethod
    def from_file(
        cls, now: Callable[[], datetime], path: Path = DEMO_PRICES_FILE
    ) -> DemoPriceClient:
        """Read the stored week; blocking, call it in the executor."""
        return cls(_read_week(path), now)

    async def async_get_agile_products(self) -> AgileProducts:
        """The demo's product codes."""
        return AgileProducts(DEMO_IMPORT_PRODUCT, DEMO_EXPORT_PRODUCT)

    async def async_get_rates(
        self,
        product_code: str,
        region: str,
        period_from: datetime,
        period_to: datetime,
    ) -> list[Rate]:
        """Half-hourly rates in [period_from, period_to), as published by now."""
        prices = (
            self._week.export_p
            if product_code == DEMO_EXPORT_PRODUCT
            else self._week.import_p
        )
        end = min(period_to, published_until(self._now()))
        start = period_from.astimezone(UTC)
        start = start.replace(minute=start.minute // 30 * 30, second=0, microsecond=0)
        rates: list[Rate] = []
        while start < end:
            # Whole weeks keep the weekday pattern of the real prices.
            offset = (start - self._week.first_start) % WEEK
            price = prices[int(offset / SLOT) % len(prices)]
            rates.append(Rate(start, start + SLOT, price))
            start += SLOT
        return rates
