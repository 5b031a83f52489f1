"""Bar charts as SVG drawn on the server: no script, no outside library, nothing from a CDN.

:func:`bar_chart` works out the geometry; ``templates/reports/_chart.html``
draws it with presentation attributes only (the CSP allows no inline style).
Each chart has a ``<title>`` and a ``<desc>`` that reads out every value, and
the page shows the same figures as a table beside it. A suppressed count is
drawn as no bar and labelled as suppressed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

WIDTH = 640
BAR_SPACE = 470  # the longest bar; the rest is room for its value
ROW = 42
BAR_HEIGHT = 16
SUPPRESSED = "* (suppressed)"


@dataclass(frozen=True)
class Bar:
    label: str
    value_text: str
    label_y: int
    bar_y: int
    width: int
    value_x: int
    value_y: int


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    bar_height: int
    bars: Tuple[Bar, ...]


def bar_chart(chart_id: str, title: str, values: Sequence[Tuple[str, Optional[int]]], unit: str) -> BarChart:
    """A horizontal bar chart of ``(label, count or None when suppressed)``, longest bar = largest count."""
    largest = max([v for _label, v in values if v is not None] + [0])
    bars = []
    for n, (label, value) in enumerate(values):
        top = n * ROW
        width = 0 if not value or not largest else max(1, round(value / largest * BAR_SPACE))
        bars.append(Bar(label=label, value_text=SUPPRESSED if value is None else str(value), label_y=top + 14,
                        bar_y=top + 20, width=width, value_x=width + 6, value_y=top + 20 + BAR_HEIGHT - 3))
    spoken = "; ".join(f"{label}: {'suppressed' if value is None else value}" for label, value in values)
    return BarChart(id=chart_id, title=title, desc=f"Bar chart of {unit}. {spoken}.", width=WIDTH,
                    height=max(ROW, ROW * len(values)), bar_height=BAR_HEIGHT, bars=tuple(bars))
