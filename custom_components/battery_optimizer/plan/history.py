"""The last plan runs of an entry, kept across restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..const import DOMAIN, RUN_HISTORY_LENGTH
from ..optimizer.model import Plan

STORAGE_VERSION = 1
HISTORY_SAVE_DELAY_S = 30


def history_store(
    hass: HomeAssistant, entry_id: str
) -> Store[dict[str, list[dict[str, Any]]]]:
    """Where an entry keeps its last runs."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.history.{entry_id}")


class RunHistory:
    """An entry's last runs, oldest first, saved a little after each one."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Start empty; `async_load` reads what an earlier start kept."""
        self._store = history_store(hass, entry_id)
        self.runs: list[dict[str, Any]] = []

    async def async_load(self) -> None:
        """Load the run history kept across restarts."""
        stored = await self._store.async_load()
        if stored:
            self.runs = stored.get("runs", [])[-RUN_HISTORY_LENGTH:]

    def record(self, now: datetime, plan: Plan) -> None:
        """Add one solved plan's run and schedule a save."""
        self.runs.append(
            {
                "time": now.isoformat(),
                "status": plan.status.value,
                "objective_p": round(plan.objective_p, 2),
                "solve_ms": round(plan.solve_ms, 1),
                "fallback": plan.is_fallback,
            }
        )
        del self.runs[:-RUN_HISTORY_LENGTH]
        self._store.async_delay_save(
            lambda: {"runs": list(self.runs)}, HISTORY_SAVE_DELAY_S
        )
