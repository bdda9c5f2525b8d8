"""A tiny, independent world generator for the acceptance checks (not Baton's simulator).

Deals enter ``Needs Analysis`` (consideration). Each week a deal advances to
``Proposal/Price Quote`` (decision), is lost, or stays. Two assets truly help (they multiply the
weekly advance hazard); a decoy has no effect but strong reps, who advance faster anyway, share it
far more often, so naive attribution favours it. Decision-stage deals then close won or lost.
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HELPFUL = ("acc-roi-proof", "acc-peer-story")
DECOY = "acc-glossy-brochure"
FILLER = ("acc-intro-blog", "acc-trend-ebook", "acc-spec-sheet", "acc-walkthrough",
          "acc-vendor-grid", "acc-price-list", "acc-soc2-pack", "acc-rollout-plan", "acc-qa")
ASSETS = {
    "acc-roi-proof": ("roi_calculator", "consideration", "Payback worksheet for automation"),
    "acc-peer-story": ("case_study", "consideration", "How a regional grocer halved spoilage"),
    DECOY: ("datasheet", "consideration", "Glossy product brochure with pretty pictures"),
    "acc-intro-blog": ("blog_post", "awareness", "Five signs your dispatch desk is overloaded"),
    "acc-trend-ebook": ("ebook", "awareness", "The state of cold chain logistics"),
    "acc-spec-sheet": ("datasheet", "consideration", "Integration specifications and APIs"),
    "acc-walkthrough": ("demo_video", "consideration", "Ten minute product walkthrough"),
    "acc-vendor-grid": ("comparison", "consideration", "Build versus buy comparison grid"),
    "acc-price-list": ("pricing_sheet", "decision", "Editions and list prices"),
    "acc-soc2-pack": ("security_review", "decision", "SOC 2 report and encryption answers"),
    "acc-rollout-plan": ("implementation_plan", "decision", "Ninety day rollout timeline"),
    "acc-qa": ("faq", "decision", "Procurement questions answered"),
}
START = datetime(2025, 1, 6, 9, 0, 0)
END = datetime(2026, 3, 1)


def write_content(folder: Path) -> list[str]:
    """Write the 12 assets as Markdown with front matter; return their ids."""
    folder.mkdir(parents=True, exist_ok=True)
    for asset_id, (atype, stage, title) in ASSETS.items():
        sentence = f"This {atype.replace('_', ' ')} covers {title.lower()}."
        body = f"{title}. " + " ".join([sentence] * 5)
        (folder / f"{asset_id}.md").write_text(
            "---\n"
            f"id: {asset_id}\ntitle: {title}\ntype: {atype}\nstage: {stage}\n"
            "personas: [operations]\nindustries: [food-beverage]\n"
            f"url: https://content.example.org/{asset_id}\n"
            f"---\n# {title}\n\n{body}\n", encoding="utf-8")
    return list(ASSETS)


def simulate(out: Path, seed: int = 11, n: int = 600) -> dict[str, int]:
    """Write ``opportunities.csv``, ``stage_history.csv``, ``content_events.csv`` into ``out``."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    reps = [f"rep{i}@acme.test" for i in range(10)]
    strong = set(reps[:4])
    opps, hist, events = [], [], []
    counts = {"advanced": 0, "lost": 0, "open": 0}
    for i in range(n):
        oid = f"ACC-{i:05d}"
        owner = reps[int(rng.integers(len(reps)))]
        is_strong = owner in strong
        created = START + timedelta(days=int(rng.integers(0, 300)), hours=int(rng.integers(0, 8)))
        shares: dict[str, datetime] = {}
        # shares happen on day 1 of the visit, so they count from week 1 on
        for asset in HELPFUL:
            if rng.random() < 0.4:
                shares[asset] = created + timedelta(days=1)
        if rng.random() < (0.8 if is_strong else 0.08):
            shares[DECOY] = created + timedelta(days=1)
        for asset in FILLER[:6]:
            if rng.random() < 0.12:
                shares[asset] = created + timedelta(days=2)
        n_helpful = sum(a in shares for a in HELPFUL)
        hazard = (0.03 + (0.04 if is_strong else 0.0)) * (2.5 ** n_helpful)
        outcome, when = "open", None
        for week in range(1, 26):
            t = created + timedelta(days=7 * week + 2)
            if t > END:
                break
            u = rng.random()
            h = hazard if week >= 1 else 0.0
            if u < min(h, 0.9):
                outcome, when = "advanced", t
                break
            if u < min(h, 0.9) + 0.05:
                outcome, when = "lost", t
                break
        stage, entered, status, closed = "Needs Analysis", created, "open", ""
        if outcome == "advanced":
            hist.append((oid, "Needs Analysis", "Proposal/Price Quote", when))
            stage, entered = "Proposal/Price Quote", when
            close = when + timedelta(days=int(rng.integers(7, 40)))
            if close < END:
                won = rng.random() < 0.6
                final = "Closed Won" if won else "Closed Lost"
                hist.append((oid, "Proposal/Price Quote", final, close))
                stage, entered, status, closed = final, close, "won" if won else "lost", close
        elif outcome == "lost":
            hist.append((oid, "Needs Analysis", "Closed Lost", when))
            stage, entered, status, closed = "Closed Lost", when, "lost", when
        counts[outcome] += 1
        opps.append([oid, f"Deal {i}", f"Account {i % 97}", "food-beverage", "operations",
                     str(int(rng.integers(5, 200)) * 1000), owner, created.isoformat(), stage,
                     entered.isoformat(), status, closed.isoformat() if closed else "",
                     "cold chain rollout, worried about spoilage"])
        for j, (asset, at) in enumerate(sorted(shares.items())):
            if outcome != "open" and when is not None and at >= when:
                continue
            events.append([f"{oid}-e{j}", oid, asset, "shared", "consideration", at.isoformat(),
                           owner, ""])
    _write(out / "opportunities.csv",
           ["opportunity_id", "name", "account", "industry", "persona", "amount", "owner",
            "created_at", "stage", "stage_entered_at", "status", "closed_at", "notes"], opps)
    _write(out / "stage_history.csv", ["opportunity_id", "from_stage", "to_stage", "changed_at"],
           [[o, f, t, c.isoformat()] for o, f, t, c in hist])
    _write(out / "content_events.csv",
           ["event_id", "opportunity_id", "asset_id", "event_type", "stage", "occurred_at",
            "user", "propensity"], events)
    return counts


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
