"""The progress chart: cumulative hours through the CPD year, stacked by category, against
a straight target line. A PNG of exactly the size asked for (matplotlib, Agg, no pyplot).
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from bot.core import text as fmt
from bot.core.record import Record
from bot.services.fonts import safe_text

# Colour-blind-friendly qualitative palette (Okabe-Ito, then Tol's muted).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#332288",
    "#88CCEE",
    "#999933",
)
DPI = 100


def progress_png(
    record: Record,
    target_minutes: int | None,
    *,
    width: int = 1000,
    height: int = 500,
    today: date | None = None,
) -> bytes:
    """The chart as PNG bytes, `width` x `height` pixels.

    Lines stop at `today` when it falls inside the year (the future is not drawn as flat);
    `target_minutes` None draws no target line.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    start, end = record.start, record.end
    last = end - timedelta(days=1)
    if today is not None and start <= today < end:
        last = today
    per_category = record.minutes_by_category()
    series = _cumulative_hours(record, per_category, last)

    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _draw_hours(ax, record, per_category, series)
    top = record.total_minutes / 60
    if target_minutes:
        top = max(top, _draw_target(ax, (end - start).days, target_minutes))
    if today is not None and start <= today < end:
        _draw_today(ax, float((today - start).days + 1))
    _draw_axes(ax, record, last, top)
    total = fmt.hours(record.total_minutes)
    goal = f" of {fmt.hours(target_minutes)}" if target_minutes else ""
    name = record.person.display_name
    title = f"{name + ' · ' if name else ''}{record.scheme.name} CPD {record.label}: {total}{goal}"
    ax.set_title(safe_text(title), loc="left", fontsize=13, fontweight="bold")
    if series or target_minutes:
        ax.legend(loc="upper left", fontsize=8.5, frameon=False)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.9, bottom=0.13)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _cumulative_hours(
    record: Record, per_category: dict[str, int], last: date
) -> list[list[float]]:
    """For each category (in `per_category`'s order), the hours logged up to each day of the
    year from its start to `last`."""
    start = record.start
    days = [start + timedelta(n) for n in range((last - start).days + 1)]
    index = {d: i for i, d in enumerate(days)}
    daily = {c: [0] * len(days) for c in per_category}
    for e in record.entries:
        i = index.get(e.activity_date)
        if i is not None and not e.deleted:
            daily[e.category][i] += e.minutes
    series = []
    for c in per_category:
        running, cumulative = 0, []
        for m in daily[c]:
            running += m
            cumulative.append(running / 60)
        series.append(cumulative)
    return series


def _draw_hours(
    ax: Any, record: Record, per_category: dict[str, int], series: list[list[float]]
) -> None:
    """The cumulative hours, stacked by category, as steps (a day's total holds all day)."""
    if not series:
        return
    x = [float(n) for n in range(len(series[0]) + 1)]  # day n's total holds until day n + 1
    ax.stackplot(
        x,
        [[*s, s[-1]] for s in series],
        labels=[
            safe_text(f"{fmt.category_label(record.scheme, c)} ({fmt.hours(minutes)})")
            for c, minutes in per_category.items()
        ],
        colors=[PALETTE[i % len(PALETTE)] for i in range(len(per_category))],
        step="post",
        alpha=0.9,
        linewidth=0,
    )


def _draw_target(ax: Any, span: int, target_minutes: int) -> float:
    """The straight target line over the year's `span` days; its height in hours."""
    hours = target_minutes / 60
    ax.plot(
        [0.0, float(span)],
        [0, hours],
        color="#222222",
        linestyle="--",
        linewidth=1.6,
        label=f"Target {fmt.hours(target_minutes)} (steady pace)",
    )
    return hours


def _draw_today(ax: Any, x: float) -> None:
    ax.axvline(x, color="#777777", linewidth=0.8, ls=":")
    ax.annotate(
        "today",
        (x, 1),
        xycoords=("data", "axes fraction"),
        xytext=(3, -12),
        textcoords="offset points",
        fontsize=8,
        color="#555555",
    )


def _draw_axes(ax: Any, record: Record, last: date, top: float) -> None:
    """Month ticks, whole hours, a light grid and the axis labels."""
    from matplotlib.ticker import MaxNLocator

    start, end = record.start, record.end
    ax.set_xlim(0.0, float((end - start).days))
    ax.set_ylim(0, max(1.0, top * 1.1))
    months = _month_starts(start, end)
    ax.set_xticks([float((m - start).days) for m in months], [f"{m:%b}" for m in months])
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel(f"CPD year {record.label} ({start:%-d %b %Y} – {last:%-d %b %Y})")
    ax.set_ylabel("Hours (cumulative)")


def _month_starts(start: date, end: date) -> list[date]:
    """The first day of each month in [start, end), and `start` itself."""
    found = [start]
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = date(year, month, 1)
        if day >= end:
            return found
        found.append(day)
