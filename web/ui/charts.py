"""Chart geometry for the server-rendered SVGs: the influence forest plot and the gaps heatmap."""

from __future__ import annotations

from recommender.domain import StageConfig
from recommender.learning.analytics import NO_ASSET, GapCell

PLOT_WIDTH = 760
LABEL_WIDTH = 300
ROW_HEIGHT = 22
MARGIN = 24


def forest_plot(rows: list[dict]) -> dict:
    """Return the forest plot's geometry: one point and interval per row, a zero line, ticks."""
    values = [v for r in rows for v in (r["lower"], r["upper"], r["effect"]) if v is not None]
    low, high = min(values + [0.0]), max(values + [0.0])
    if high - low < 1e-9:
        low, high = low - 0.1, high + 0.1
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad
    inner = PLOT_WIDTH - LABEL_WIDTH - 2 * MARGIN

    def x(value: float) -> float:
        return round(LABEL_WIDTH + MARGIN + (value - low) / (high - low) * inner, 1)

    points = []
    for i, row in enumerate(rows):
        effect, lower, upper = row["effect"], row["lower"], row["upper"]
        points.append({
            "y": MARGIN + i * ROW_HEIGHT + ROW_HEIGHT / 2,
            "x": x(effect) if effect is not None else None,
            "x1": x(lower) if lower is not None else None,
            "x2": x(upper) if upper is not None else None,
            "verdict": (row.get("verdict") or "").replace(" ", "-"),
            "name": _short(f"{row.get('title') or row.get('asset_id')}", 36),
            "stage": row.get("buying_stage") or "",
            "label": f"{row.get('title') or row.get('asset_id')} ({row.get('buying_stage')}): "
                     f"effect {effect if effect is not None else 'n/a'}",
        })
    step = _tick_step(high - low)
    start = int(low / step) - 1
    ticks = [t * step for t in range(start, start + 40)
             if low <= t * step <= high][:12]
    return {"width": PLOT_WIDTH, "label_width": LABEL_WIDTH,
            "height": 2 * MARGIN + max(1, len(rows)) * ROW_HEIGHT,
            "zero_x": x(0.0), "points": points, "top": MARGIN,
            "bottom": MARGIN + max(1, len(rows)) * ROW_HEIGHT,
            "ticks": [{"x": x(t), "label": f"{t:+.2f}".replace("+0.00", "0")} for t in ticks]}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _tick_step(span: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0):
        if span / step <= 8:
            return step
    return 10.0


def heatmap(cells: list[GapCell], stages: StageConfig, industry: str = "") -> dict:
    """Return a buying stage × persona grid of gap cells, for one industry or across all.

    Across industries a cell shows the most assets any industry has, the most helping assets,
    the open requests summed, and how many industries have a gap there.
    """
    personas = [t.name for t in stages.personas]
    labels = {t.name: t.label for t in stages.personas}
    grid: dict[tuple[str, str], dict] = {}
    for cell in cells:
        if industry and cell.industry not in (industry, ""):
            continue
        if cell.persona not in labels:
            personas.append(cell.persona)
            labels[cell.persona] = cell.persona or "any persona"
        slot = grid.setdefault((cell.buying_stage, cell.persona), {
            "assets": 0, "helps": 0, "requests": 0, "gaps": 0, "cells": 0, "no_asset": 0,
            "reasons": []})
        slot["assets"] = max(slot["assets"], cell.asset_count)
        slot["helps"] = max(slot["helps"], cell.helping_count)
        slot["requests"] += cell.open_requests
        slot["cells"] += 1
        slot["gaps"] += int(cell.is_gap)
        slot["no_asset"] += int(cell.status == NO_ASSET)
        reason = cell.explanation
        if reason and len(slot["reasons"]) < 3 and reason not in slot["reasons"]:
            slot["reasons"].append(reason)
    rows = []
    for stage in stages.buying_stages:
        row = []
        for persona in personas:
            slot = grid.get((stage.name, persona))
            if slot is None:
                row.append({"persona": persona, "assets": 0, "helps": 0, "requests": 0,
                            "gaps": 0, "cells": 0, "reasons": [], "level": -1})
                continue
            if slot["no_asset"] == slot["cells"]:
                level = 0
            elif slot["gaps"]:
                level = 1
            else:
                level = 2
            row.append({"persona": persona, **slot, "level": level})
        rows.append({"stage": stage.name, "label": stage.label, "cells": row})
    return {"personas": [(p, labels[p]) for p in personas], "rows": rows,
            "empty": not cells}
