"""PNG charts of a backtest, drawn with Pillow (already installed with Home Assistant)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from PIL import Image, ImageDraw

from custom_components.battery_optimizer.optimizer.model import Battery, Mode
from custom_components.battery_optimizer.optimizer.simulate import Result, Timeline

WIDTH_PX, HEIGHT_PX = 1200, 520
MARGIN_PX = 60
MODE_STRIP_PX = 18
SLOTS_PER_WEEK = 7 * 48
PENCE_PER_GBP = 100.0
WHITE, BLACK, GREY = (255, 255, 255), (0, 0, 0), (200, 200, 200)
COLOURS = (
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
)
MODE_COLOURS = {
    Mode.SELF_USE: (200, 200, 200),
    Mode.FORCE_CHARGE: (44, 160, 44),
    Mode.FORCE_DISCHARGE: (214, 39, 40),
    Mode.HOLD: (255, 187, 120),
    Mode.FEED_IN_FIRST: (31, 119, 180),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One series of a chart."""

    label: str
    values: Sequence[float]


def _chart(
    title: str, lines: Sequence[Line], modes: Sequence[Mode] | None = None
) -> Image.Image:
    """A line chart with a zero line, min/max labels and an optional strip of modes."""
    image = Image.new("RGB", (WIDTH_PX, HEIGHT_PX), WHITE)
    draw = ImageDraw.Draw(image)
    bottom = HEIGHT_PX - MARGIN_PX - (MODE_STRIP_PX if modes else 0)
    top, left, right = MARGIN_PX, MARGIN_PX, WIDTH_PX - MARGIN_PX
    low = min(min(line.values) for line in lines)
    high = max(max(line.values) for line in lines)
    low, high = min(low, 0.0), max(high, low + 1e-9)
    n = max(len(line.values) for line in lines)

    def x(t: int) -> float:
        return left + (right - left) * t / max(1, n - 1)

    def y(value: float) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    draw.rectangle((left, top, right, bottom), outline=BLACK)
    draw.line((left, y(0.0), right, y(0.0)), fill=GREY)
    draw.text((left, top - 40), title, fill=BLACK)
    draw.text((4, top), f"{high:.1f}", fill=BLACK)
    draw.text((4, bottom - 10), f"{low:.1f}", fill=BLACK)
    for k, line in enumerate(lines):
        colour = COLOURS[k % len(COLOURS)]
        points = [(x(t), y(v)) for t, v in enumerate(line.values)]
        draw.line(points, fill=colour, width=2)
        draw.text((left + 10 + 220 * k, top - 20), line.label, fill=colour)
    if modes:
        for t, mode in enumerate(modes):
            draw.rectangle(
                (x(t), bottom + 4, x(t + 1), bottom + MODE_STRIP_PX),
                fill=MODE_COLOURS[mode],
            )
        legend = "modes: " + ", ".join(m.value for m in MODE_COLOURS)
        draw.text((left, bottom + MODE_STRIP_PX + 6), legend, fill=BLACK)
    return image


def _sample_week_start(timeline: Timeline) -> int:
    """Start of the week with the widest price range, where planning matters most."""
    best, best_range = 0, -1.0
    for first in range(0, max(1, len(timeline) - SLOTS_PER_WEEK + 1), 48):
        week = timeline.import_p_per_kwh[first : first + SLOTS_PER_WEEK]
        if max(week) - min(week) > best_range:
            best, best_range = first, max(week) - min(week)
    return best


def write_plots(
    folder: Path,
    timeline: Timeline,
    none: Result,
    selfuse: Result,
    rules: Result,
    ours: Result,
    perfect: Result,
    battery: Battery,
) -> list[Path]:
    """Write the sample-week and cumulative-savings charts; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    first = _sample_week_start(timeline)
    week = slice(first, first + SLOTS_PER_WEEK)
    soc_pct = [100 * kwh / battery.capacity_kwh for kwh in ours.stored_kwh[week]]
    week_chart = _chart(
        f"Week from {timeline.slot_start(first):%Y-%m-%d}: prices (p/kWh) and our SoC (%)",
        [
            Line("import p/kWh", timeline.import_p_per_kwh[week]),
            Line("export p/kWh", timeline.export_p_per_kwh[week]),
            Line("SoC % (ours)", soc_pct),
        ],
        ours.modes[week],
    )
    baseline = none.cost_per_slot_p
    savings = [
        Line(
            result.name,
            [
                p / PENCE_PER_GBP
                for p in accumulate(
                    b - c for b, c in zip(baseline, result.cost_per_slot_p, strict=True)
                )
            ],
        )
        for result in (selfuse, rules, ours, perfect)
    ]
    savings_chart = _chart(
        f"Cumulative savings against no battery (GBP) from {timeline.start:%Y-%m-%d}",
        savings,
    )
    paths = [folder / "sample_week.png", folder / "cumulative_savings.png"]
    week_chart.save(paths[0])
    savings_chart.save(paths[1])
    return paths
