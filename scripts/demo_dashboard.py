"""Write the demo's Overview dashboard: the plan card beside Home Assistant's own cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.components.lovelace.dashboard import (
    CONFIG_STORAGE_KEY_DEFAULT,
    CONFIG_STORAGE_VERSION,
)
from homeassistant.util import slugify

DEMO_SOC_SLIDER = "input_number.demo_battery_soc"


def sensor_id(device_name: str, entity_name: str) -> str:
    """The entity id Home Assistant gives a named entity of a named device."""
    return f"sensor.{slugify(f'{device_name} {entity_name}')}"


def dashboard_config(device_name: str, soc_entity: str) -> dict[str, Any]:
    """The Overview dashboard for the demo entry titled device_name."""
    mode = sensor_id(device_name, "Recommended mode")
    plan_section = {
        "type": "grid",
        "column_span": 2,
        "cards": [
            {
                "type": "heading",
                "heading": "Plan (demo: a stored week of real Agile prices, replayed as today)",
            },
            {"type": "custom:battery-optimizer-plan-card", "entity": mode},
        ],
    }
    now_section = {
        "type": "grid",
        "cards": [
            {"type": "heading", "heading": "Now (move the demo SoC to re-plan)"},
            {"type": "tile", "entity": mode, "name": "Mode"},
            {
                "type": "tile",
                "entity": sensor_id(device_name, "Recommended charge current"),
                "name": "Charge current",
            },
            {
                "type": "tile",
                "entity": sensor_id(device_name, "Target state of charge"),
                "name": "Target SoC",
            },
            {
                "type": "tile",
                "entity": sensor_id(device_name, "Import price"),
                "name": "Import price",
            },
            {
                "type": "tile",
                "entity": DEMO_SOC_SLIDER,
                "name": "Demo SoC",
            },
            {
                "type": "history-graph",
                "title": "State of charge",
                "hours_to_show": 24,
                "entities": [
                    {"entity": soc_entity, "name": "Battery"},
                    {
                        "entity": sensor_id(device_name, "Target state of charge"),
                        "name": "Target",
                    },
                ],
            },
        ],
    }
    return {
        "title": "Battery Optimizer demo",
        "views": [
            {
                "title": "Battery",
                "path": "battery",
                "type": "sections",
                "max_columns": 3,
                "sections": [plan_section, now_section],
            }
        ],
    }


def write_dashboard(config_dir: Path, device_name: str, soc_entity: str) -> bool:
    """Write the Overview dashboard unless one exists; True when written."""
    path = config_dir / ".storage" / CONFIG_STORAGE_KEY_DEFAULT
    if path.exists():
        return False
    stored = {
        "version": CONFIG_STORAGE_VERSION,
        "minor_version": 1,
        "key": CONFIG_STORAGE_KEY_DEFAULT,
        "data": {"config": dashboard_config(device_name, soc_entity)},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return True
