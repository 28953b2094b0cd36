"""Published Agile prices for the planner, refreshed and cached by a coordinator.

Everything is kept in UTC; Europe/London only decides when Octopus publishes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import inspect
import logging
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_EXPORT_PRODUCT,
    CONF_EXPORT_RATE,
    CONF_EXPORT_TYPE,
    CONF_IMPORT_PRODUCT,
    CONF_REGION,
    DOMAIN,
    EXPORT_AGILE,
    EXPORT_FIXED,
    EXPORT_NONE,
    PRICE_REFRESH_INTERVAL,
)
from ..optimizer.horizon import LAST_PRICE_END_UK, PUBLICATION_TIME_UK, UK_TZ
from .octopus import AgileProducts, OctopusError, Rate, tariff_code

_LOGGER = logging.getLogger(__name__)
# Newer Home Assistant releases take the delay of the next try with the failure.
_UPDATE_FAILED_TAKES_RETRY_AFTER = (
    "retry_after" in inspect.signature(UpdateFailed.__init__).parameters
)

# Octopus publishes the next Agile day (23:00 to 23:00 London) at about 16:00.
PUBLISH_POLL_INTERVAL = timedelta(minutes=5)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(minutes=30)
# The coordinator's timer may fire up to a second early; waking just after the
# publication time avoids a wasted fetch just before it.
SCHEDULE_MARGIN = timedelta(seconds=1)
FETCH_BACK = timedelta(days=1)
FETCH_AHEAD = timedelta(days=2)
KEEP_HISTORY = timedelta(days=2)

STORAGE_VERSION = 1
STORAGE_KEY_PREFIX = f"{DOMAIN}.prices."


@dataclass(frozen=True, slots=True)
class TariffSettings:
    """The tariff part of a config entry."""

    region: str
    import_product: str
    export_type: str
    export_product: str | None = None
    export_rate_p_per_kwh: float = 0.0

    @classmethod
    def from_entry_data(cls, data: Mapping[str, Any]) -> TariffSettings:
        """Read the tariff settings from a config entry's data."""
        export_type = data.get(CONF_EXPORT_TYPE, EXPORT_NONE)
        if export_type not in (EXPORT_AGILE, EXPORT_FIXED, EXPORT_NONE):
            raise ValueError(f"unknown export type {export_type!r}")
        export_product = data.get(CONF_EXPORT_PRODUCT)
        if export_type == EXPORT_AGILE and not export_product:
            raise ValueError("Agile export needs an export product")
        rate = float(data.get(CONF_EXPORT_RATE) or 0.0)
        return cls(
            region=data[CONF_REGION],
            import_product=data[CONF_IMPORT_PRODUCT],
            export_type=export_type,
            export_product=export_product if export_type == EXPORT_AGILE else None,
            export_rate_p_per_kwh=rate if export_type == EXPORT_FIXED else 0.0,
        )

    @property
    def import_tariff(self) -> str:
        """Return the import tariff code."""
        return tariff_code(self.import_product, self.region)

    @property
    def export_tariff(self) -> str | None:
        """Return the Agile Outgoing tariff code, or None for fixed or no export."""
        if self.export_product is None:
            return None
        return tariff_code(self.export_product, self.region)

    @property
    def fixed_export_p_per_kwh(self) -> float | None:
        """Return the constant export price, or None when export follows Agile."""
        return None if self.export_type == EXPORT_AGILE else self.export_rate_p_per_kwh


def _rate_at(rates: Sequence[Rate], when: datetime) -> Rate | None:
    index = bisect_right(rates, when, key=lambda rate: rate.start) - 1
    if index >= 0 and when < rates[index].end:
        return rates[index]
    return None


@dataclass(frozen=True, slots=True)
class PriceData:
    """Import and export prices known now, sorted by start and not overlapping."""

    import_rates: tuple[Rate, ...]
    export_rates: tuple[Rate, ...]
    # Constant export price for fixed export (0 for none); None for Agile Outgoing.
    fixed_export_p_per_kwh: float | None
    fetched_at: datetime
    from_cache: bool = False

    def import_price_at(self, when: datetime) -> float | None:
        """Return the import price in force at `when`, or None if unpublished."""
        rate = _rate_at(self.import_rates, when)
        return None if rate is None else rate.price_p_per_kwh

    def export_price_at(self, when: datetime) -> float | None:
        """Return the export price in force at `when`, or None if unpublished."""
        if self.fixed_export_p_per_kwh is not None:
            return self.fixed_export_p_per_kwh
        rate = _rate_at(self.export_rates, when)
        return None if rate is None else rate.price_p_per_kwh

    def import_prices(self, slot_starts: Iterable[datetime]) -> list[float | None]:
        """Return the import price of each slot start, None where unpublished."""
        return [self.import_price_at(start) for start in slot_starts]

    def export_prices(self, slot_starts: Iterable[datetime]) -> list[float | None]:
        """Return the export price of each slot start, None where unpublished."""
        return [self.export_price_at(start) for start in slot_starts]

    @property
    def import_end(self) -> datetime | None:
        """Return the end of the last published import rate."""
        return self.import_rates[-1].end if self.import_rates else None

    def coverage_pct(self, start: datetime, end: datetime) -> float:
        """Return the share of [start, end) covered by published import prices."""
        window_s = (end - start).total_seconds()
        if window_s <= 0:
            return 100.0
        covered_s = 0.0
        for rate in self.import_rates:
            overlap_s = (min(rate.end, end) - max(rate.start, start)).total_seconds()
            covered_s += max(overlap_s, 0.0)
        return 100.0 * covered_s / window_s


def _merge(*batches: Iterable[Rate], keep_after: datetime) -> tuple[Rate, ...]:
    """Merge rate batches, later batches winning, dropping rates ended by keep_after."""
    by_start: dict[datetime, Rate] = {}
    for batch in batches:
        by_start.update((rate.start, rate) for rate in batch)
    return tuple(
        by_start[start]
        for start in sorted(by_start)
        if by_start[start].end > keep_after
    )


def _encode_rates(rates: Iterable[Rate]) -> list[list[str | float]]:
    return [
        [rate.start.isoformat(), rate.end.isoformat(), rate.price_p_per_kwh]
        for rate in rates
    ]


def _decode_rates(rows: Any) -> tuple[Rate, ...]:
    return tuple(
        Rate(
            dt_util.as_utc(datetime.fromisoformat(start)),
            dt_util.as_utc(datetime.fromisoformat(end)),
            float(price),
        )
        for start, end, price in rows
    )


class PriceClient(Protocol):
    """What the coordinator needs of a price source (the Octopus API or the demo)."""

    async def async_get_agile_products(self) -> AgileProducts:
        """Return the current Agile products."""

    async def async_get_rates(
        self,
        product_code: str,
        region: str,
        period_from: datetime,
        period_to: datetime,
    ) -> list[Rate]:
        """Return the rates in [period_from, period_to), oldest first."""


def price_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where an entry keeps the prices it fetched."""
    return Store(hass, STORAGE_VERSION, f"{STORAGE_KEY_PREFIX}{entry_id}")


class PriceCoordinator(DataUpdateCoordinator[PriceData]):
    """Fetches Agile prices on the publication schedule and keeps them on disk."""

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, client: PriceClient
    ) -> None:
        """Set up the coordinator for one config entry's tariff."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} prices",
            update_interval=PRICE_REFRESH_INTERVAL,
        )
        self.client = client
        self.settings = TariffSettings.from_entry_data(entry.data)
        self._store = price_store(hass, entry.entry_id)
        self._cache: PriceData | None = None
        self._cache_loaded = False
        self.failures = 0

    async def _async_update_data(self) -> PriceData:
        """Fetch prices, falling back to the cached ones when Octopus fails."""
        now = dt_util.utcnow()
        if not self._cache_loaded:
            self._cache = await self._async_load_cache()
            self._cache_loaded = True
        try:
            import_rates, export_rates = await self._async_fetch(now)
        except OctopusError as err:
            self.failures += 1
            retry = self._next_interval(now, self._cache)
            cached = self._pruned(self._cache, now) if self._cache else None
            # Past prices alone cannot plan anything: only a cache reaching into the
            # future is worth serving.
            if cached is None or cached.import_end is None or cached.import_end <= now:
                raise self._update_failed(err, retry) from err
            self.update_interval = retry
            # One warning per outage; the retries that follow stay quiet.
            log = _LOGGER.warning if self.failures == 1 else _LOGGER.debug
            log("Using stored Agile prices, Octopus failed: %s", err)
            return cached
        if self.failures:
            _LOGGER.info("Agile prices fetched again after %d failures", self.failures)
        self.failures = 0
        data, grew = self._combine(import_rates, export_rates, now)
        self._cache = data
        # Disk writes only when Octopus published something new, not every poll.
        if grew:
            await self._store.async_save(self._encode(data))
        self.update_interval = self._next_interval(now, data)
        return data

    def _update_failed(self, err: OctopusError, retry: timedelta) -> UpdateFailed:
        """The failure to raise, asking for the next try after the backoff."""
        details: dict[str, Any] = {
            "translation_domain": DOMAIN,
            "translation_key": "prices_unavailable",
            "translation_placeholders": {"error": str(err)},
        }
        if _UPDATE_FAILED_TAKES_RETRY_AFTER:
            details["retry_after"] = retry.total_seconds()
            return UpdateFailed(**details)
        # Releases before retry_after existed: the next poll follows the interval.
        self.update_interval = retry
        return UpdateFailed(**details)

    async def _async_fetch(self, now: datetime) -> tuple[list[Rate], list[Rate]]:
        period_from = now - FETCH_BACK
        period_to = now + FETCH_AHEAD
        import_rates = await self.client.async_get_rates(
            self.settings.import_product, self.settings.region, period_from, period_to
        )
        export_rates: list[Rate] = []
        if self.settings.export_product is not None:
            export_rates = await self.client.async_get_rates(
                self.settings.export_product,
                self.settings.region,
                period_from,
                period_to,
            )
        return import_rates, export_rates

    def _combine(
        self, import_rates: list[Rate], export_rates: list[Rate], now: datetime
    ) -> tuple[PriceData, bool]:
        """Merge fresh rates into the cache; say whether they brought anything new."""
        keep_after = now - KEEP_HISTORY
        old = self._cache
        data = PriceData(
            import_rates=_merge(
                old.import_rates if old else (), import_rates, keep_after=keep_after
            ),
            export_rates=_merge(
                old.export_rates if old else (), export_rates, keep_after=keep_after
            ),
            fixed_export_p_per_kwh=self.settings.fixed_export_p_per_kwh,
            fetched_at=now,
        )
        grew = old is None or not (
            set(import_rates) <= set(old.import_rates)
            and set(export_rates) <= set(old.export_rates)
        )
        return data, grew

    def _pruned(self, data: PriceData, now: datetime) -> PriceData:
        """Return the cached prices without old rates, marked as from the cache."""
        keep_after = now - KEEP_HISTORY
        return PriceData(
            import_rates=_merge(data.import_rates, keep_after=keep_after),
            export_rates=_merge(data.export_rates, keep_after=keep_after),
            fixed_export_p_per_kwh=data.fixed_export_p_per_kwh,
            fetched_at=data.fetched_at,
            from_cache=True,
        )

    def _encode(self, data: PriceData) -> dict[str, Any]:
        return {
            "import_tariff": self.settings.import_tariff,
            "export_tariff": self.settings.export_tariff,
            "fetched_at": data.fetched_at.isoformat(),
            "import": _encode_rates(data.import_rates),
            "export": _encode_rates(data.export_rates),
        }

    async def _async_load_cache(self) -> PriceData | None:
        stored = await self._store.async_load()
        if stored is None:
            return None
        # A cache of another tariff (the entry was reconfigured) must not be used.
        if (
            stored.get("import_tariff") != self.settings.import_tariff
            or stored.get("export_tariff") != self.settings.export_tariff
        ):
            return None
        try:
            return PriceData(
                import_rates=_decode_rates(stored["import"]),
                export_rates=_decode_rates(stored["export"]),
                fixed_export_p_per_kwh=self.settings.fixed_export_p_per_kwh,
                fetched_at=dt_util.as_utc(datetime.fromisoformat(stored["fetched_at"])),
            )
        except (KeyError, TypeError, ValueError):
            _LOGGER.warning("Ignoring unreadable price cache %s", self._store.key)
            return None

    def _next_interval(self, now: datetime, data: PriceData | None) -> timedelta:
        """Return how long to wait before the next fetch."""
        if self.failures:
            # Capping the exponent keeps the power small after a long outage.
            backoff = BACKOFF_FIRST * (1 << min(self.failures - 1, 10))
            return min(backoff, BACKOFF_MAX)
        london = now.astimezone(UK_TZ)
        publish = datetime.combine(london.date(), PUBLICATION_TIME_UK, tzinfo=UK_TZ)
        if london < publish:
            return min(PRICE_REFRESH_INTERVAL, publish - now + SCHEDULE_MARGIN)
        tomorrow_end = datetime.combine(
            london.date() + timedelta(days=1), LAST_PRICE_END_UK, tzinfo=UK_TZ
        )
        published_end = data.import_end if data else None
        if published_end is None or published_end < tomorrow_end:
            return PUBLISH_POLL_INTERVAL
        return PRICE_REFRESH_INTERVAL
