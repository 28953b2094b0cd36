"""Reader for the half-hourly CSVs in ../shared/data that copes with gaps.

Every file has a `start` column (UTC, ISO 8601 with `Z`) and value columns.
Rows with an empty or non-numeric cell in a requested column are skipped, and
so are missing slots; `HalfHourly.describe()` says what was skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
import csv
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SLOT = timedelta(minutes=30)


@dataclass(frozen=True)
class HalfHourly:
    """Complete rows of a half-hourly file, keyed by slot start (UTC)."""

    path: Path
    columns: tuple[str, ...]
    rows: dict[datetime, tuple[float, ...]]
    first: datetime
    last: datetime
    skipped_cells: dict[str, int] = field(default_factory=dict)
    missing_slots: int = 0

    def describe(self) -> str:
        """One line on what was read and what was skipped."""
        cells = ", ".join(f"{n} empty/bad {c}" for c, n in self.skipped_cells.items())
        return (
            f"{self.path.name}: {len(self.rows)} complete slots "
            f"{self.first:%Y-%m-%d} to {self.last:%Y-%m-%d}; skipped "
            f"{cells or 'no rows'}; {self.missing_slots} slots absent from the file"
        )

    def window(self, start: datetime, n_slots: int) -> list[tuple[float, ...]] | None:
        """The n consecutive rows from start, or None if any is missing."""
        out: list[tuple[float, ...]] = []
        for t in range(n_slots):
            row = self.rows.get(start + t * SLOT)
            if row is None:
                return None
            out.append(row)
        return out

    def window_starts(self, n_slots: int) -> list[datetime]:
        """Every slot start from which n consecutive complete rows follow."""
        run = 0
        slot = self.last
        # Walk backwards so the length of the complete run ahead is known.
        starts: list[datetime] = []
        while slot >= self.first:
            run = run + 1 if slot in self.rows else 0
            if run >= n_slots:
                starts.append(slot)
            slot -= SLOT
        starts.reverse()
        return starts


def _parse_start(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_half_hourly(relative_path: str, columns: Sequence[str]) -> HalfHourly:
    """Read the given columns of a file under DATA_DIR, skipping incomplete rows."""
    path = DATA_DIR / relative_path
    rows: dict[datetime, tuple[float, ...]] = {}
    skipped = dict.fromkeys(columns, 0)
    starts: list[datetime] = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            start = _parse_start(record["start"])
            starts.append(start)
            values: list[float] = []
            for name in columns:
                try:
                    value = float(record[name])
                except (TypeError, ValueError):
                    value = math.nan
                if not math.isfinite(value):
                    skipped[name] += 1
                    break
                values.append(value)
            else:
                rows[start] = tuple(values)
    if not starts:
        msg = f"{path} has no rows"
        raise ValueError(msg)
    span_slots = int((starts[-1] - starts[0]) / SLOT) + 1
    return HalfHourly(
        path=path,
        columns=tuple(columns),
        rows=rows,
        first=starts[0],
        last=starts[-1],
        skipped_cells={c: n for c, n in skipped.items() if n},
        missing_slots=span_slots - len(starts),
    )
