"""The repair issues of a config entry, raised and cleared in one place.

Issue ids are the issue key suffixed with the entry id, so every entry has its
own; the key is also the translation key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import CONF_SOC_ENTITY, DOMAIN, PRICE_COVERAGE_MIN_PCT, SOC_STALE_AFTER

ISSUE_PRICE_COVERAGE: Final = "price_coverage"
ISSUE_SOC_UNAVAILABLE: Final = "soc_unavailable"
ISSUE_CONTROL_WRITE_FAILED: Final = "control_write_failed"
ISSUE_CONTROL_RATE_LIMITED: Final = "control_rate_limited"
ISSUE_CONTROL_QUOTA: Final = "control_quota_exhausted"
CONTROL_ISSUES = (
    ISSUE_CONTROL_WRITE_FAILED,
    ISSUE_CONTROL_RATE_LIMITED,
    ISSUE_CONTROL_QUOTA,
)


def whole_minutes(span: timedelta) -> int:
    """A span in whole minutes, for messages."""
    return round(span.total_seconds() / 60)


def _issue_id(key: str, entry_id: str) -> str:
    return f"{key}_{entry_id}"


def async_update_soc_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    now: datetime,
    stale: bool,
    missing_since: datetime | None,
) -> None:
    """Raise the issue when the SoC has been missing too long, else clear it."""
    issue_id = _issue_id(ISSUE_SOC_UNAVAILABLE, entry.entry_id)
    if not stale:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    if missing_since is not None and now - missing_since <= SOC_STALE_AFTER:
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_SOC_UNAVAILABLE,
        translation_placeholders={
            "entity_id": entry.data[CONF_SOC_ENTITY],
            "title": entry.title,
            "minutes": str(whole_minutes(SOC_STALE_AFTER)),
        },
    )


def async_update_coverage_issue(
    hass: HomeAssistant, entry: ConfigEntry, coverage_12h: float
) -> None:
    """Raise the issue when too few of the next hours have prices, else clear it."""
    issue_id = _issue_id(ISSUE_PRICE_COVERAGE, entry.entry_id)
    if coverage_12h >= PRICE_COVERAGE_MIN_PCT:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_PRICE_COVERAGE,
        translation_placeholders={
            "coverage": f"{coverage_12h:.0f}",
            "title": entry.title,
        },
    )


def async_clear_control_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Clear the issues of automatic control: the inverter takes commands."""
    for key in CONTROL_ISSUES:
        ir.async_delete_issue(hass, DOMAIN, _issue_id(key, entry_id))


def async_raise_control_issue(
    hass: HomeAssistant, entry: ConfigEntry, key: str, mode: str, error: str
) -> None:
    """Raise one issue of automatic control: a command the inverter did not take."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        _issue_id(key, entry.entry_id),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=key,
        translation_placeholders={
            "title": entry.title,
            "mode": mode,
            "error": error,
        },
    )


def async_delete_all(hass: HomeAssistant, entry_id: str) -> None:
    """Clear every issue of an entry: those of an unloaded one cannot clear."""
    for key in (ISSUE_SOC_UNAVAILABLE, ISSUE_PRICE_COVERAGE, *CONTROL_ISSUES):
        ir.async_delete_issue(hass, DOMAIN, _issue_id(key, entry_id))
