"""The simulator's output side: the ``World`` record, its rows in the ``baton`` CSV contract
(CONTRACTS section 3) and ``write_world`` (content folder, three CSVs, ``truth.json``)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np


@dataclass
class World:
    """A simulated world: assets, the three ``baton`` CSV tables as row dicts, and the truth."""

    seed: int
    end: datetime
    assets: list[dict]
    opportunities: list[dict]
    stage_history: list[dict]
    events: list[dict]
    truth: dict
    reps: dict[str, float] = field(default_factory=dict)


def _iso(start: datetime, days: np.ndarray) -> np.ndarray:
    secs = np.round(np.asarray(days, dtype=float) * 86400.0).astype("int64")
    stamps = np.datetime64(start, "s") + secs.astype("timedelta64[s]")
    return np.datetime_as_string(stamps, unit="s").astype(object)


def make_rows(assets, rep_names, rep, industry, persona, amount, created, current, entered,
              status, closed, history, ev, start):
    """Turn the simulation's arrays into the three ``baton`` tables (lists of row dicts)."""
    n = len(rep)
    oid = np.array([f"SIM-{i:06d}" for i in range(n)], dtype=object)
    created_s, entered_s = _iso(start, created), _iso(start, entered)
    closed_s = _iso(start, np.nan_to_num(closed))
    opps = []
    for i in range(n):
        opps.append({
            "opportunity_id": oid[i], "name": f"{industry[i].title()} deal {i}",
            "account": f"Account {i % max(1, n // 2):05d}", "industry": industry[i],
            "persona": persona[i], "amount": f"{amount[i]:.0f}",
            "owner": rep_names[rep[i]], "created_at": created_s[i], "stage": current[i],
            "stage_entered_at": entered_s[i], "status": status[i],
            "closed_at": closed_s[i] if status[i] != "open" else "",
            "notes": f"{persona[i]} buyer in {industry[i]}",
        })
    history.sort(key=lambda h: (h[0], h[3]))
    h_times = _iso(start, np.array([h[3] for h in history])) if history else []
    history_rows = [{"opportunity_id": oid[h[0]], "from_stage": h[1], "to_stage": h[2],
                     "changed_at": h_times[i]} for i, h in enumerate(history)]
    ids = np.array([a["id"] for a in assets], dtype=object)
    events = []
    for opp, aj, kind, t, prop, names in ev:
        if len(opp) == 0:
            continue
        times = _iso(start, t)
        props = [""] * len(opp) if prop is None else [f"{p:.6f}" for p in prop]
        users = np.array(rep_names, dtype=object)[rep[opp]]
        for i in range(len(opp)):
            events.append({"opportunity_id": oid[opp[i]], "asset_id": ids[aj[i]],
                           "event_type": kind, "stage": names[i], "occurred_at": times[i],
                           "user": users[i], "propensity": props[i]})
    events.sort(key=lambda e: (e["occurred_at"], e["opportunity_id"]))
    for i, e in enumerate(events):
        e["event_id"] = f"ev-{i:08d}"
    return opps, history_rows, events


OPPORTUNITY_COLUMNS = ["opportunity_id", "name", "account", "industry", "persona", "amount",
                       "owner", "created_at", "stage", "stage_entered_at", "status", "closed_at",
                       "notes"]
HISTORY_COLUMNS = ["opportunity_id", "from_stage", "to_stage", "changed_at"]
EVENT_COLUMNS = ["event_id", "opportunity_id", "asset_id", "event_type", "stage", "occurred_at",
                 "user", "propensity"]


def _asset_markdown(asset: dict) -> str:
    lines = ["---", f"id: {asset['id']}", f"title: {json.dumps(asset['title'])}",
             f"type: {asset['type']}", f"stage: {asset['stage']}",
             f"personas: [{', '.join(asset.get('personas', []))}]",
             f"industries: [{', '.join(asset.get('industries', []))}]",
             f"url: https://example.com/content/{asset['id']}", "---", ""]
    kind = asset["type"].replace("_", " ")
    who = " and ".join(asset.get("personas", [])) or "buyers"
    where = " and ".join(asset.get("industries", [])) or "every industry"
    lines += [f"# {asset['title']}", "",
              f"This {kind} is written for {who} in {where}. It covers "
              f"{asset['title'].split(':')[-1].strip()} at the {asset['stage']} stage of the "
              f"buying journey, with examples and figures specific to {asset['id']}.", ""]
    return "\n".join(lines)


def write_world(world: World, out_dir: str | Path, content: bool = True) -> Path:
    """Write the world as a content folder, the three ``baton`` CSVs and ``truth.json``.

    Parameters
    ----------
    world : World
    out_dir : str or Path
        Created when missing. Receives ``content/*.md``, ``opportunities.csv``,
        ``stage_history.csv``, ``content_events.csv`` and ``truth.json``.
    content : bool
        Write the Markdown assets (skip when the assets come from an existing library).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if content:
        (out / "content").mkdir(exist_ok=True)
        for asset in world.assets:
            (out / "content" / f"{asset['id']}.md").write_text(_asset_markdown(asset), "utf-8")
    for name, cols, rows in (("opportunities.csv", OPPORTUNITY_COLUMNS, world.opportunities),
                             ("stage_history.csv", HISTORY_COLUMNS, world.stage_history),
                             ("content_events.csv", EVENT_COLUMNS, world.events)):
        with open(out / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    truth = dict(world.truth, seed=world.seed, end=world.end.isoformat(),
                 n_opportunities=len(world.opportunities))
    (out / "truth.json").write_text(json.dumps(truth, indent=1), "utf-8")
    return out
