"""Load a simulated world straight into the database (bulk inserts), for learning tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from models.crm import ContentEvent, Opportunity, StageChange
from models.library import Asset


def _dt(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def load_world(baton, world, events: bool = True) -> None:
    """Insert the world's assets, opportunities, stage history and events."""
    with baton.session() as session:
        session.execute(insert(Asset), [
            {"id": a["id"], "title": a["title"], "type": a["type"], "stage": a["stage"],
             "content_hash": a["id"], "personas": a.get("personas", []),
             "industries": a.get("industries", [])} for a in world.assets])
        session.execute(insert(Opportunity), [
            {"opportunity_id": o["opportunity_id"], "name": o["name"], "account": o["account"],
             "industry": o["industry"], "persona": o["persona"], "amount": float(o["amount"]),
             "owner": o["owner"], "created_at": _dt(o["created_at"]), "stage": o["stage"],
             "buying_stage": baton.stages.resolve_buying_stage(o["stage"]),
             "stage_entered_at": _dt(o["stage_entered_at"]), "status": o["status"],
             "closed_at": _dt(o["closed_at"]), "notes": o["notes"]}
            for o in world.opportunities])
        session.execute(insert(StageChange), [
            {"opportunity_id": h["opportunity_id"], "from_stage": h["from_stage"],
             "to_stage": h["to_stage"], "changed_at": _dt(h["changed_at"])}
            for h in world.stage_history])
        if events:
            add_events(session, world.events)


def add_events(session, events) -> None:
    """Insert content events (dicts in the baton CSV shape)."""
    session.execute(insert(ContentEvent), [
        {"event_id": e["event_id"], "opportunity_id": e["opportunity_id"],
         "asset_id": e["asset_id"], "event_type": e["event_type"], "stage": e["stage"],
         "occurred_at": _dt(e["occurred_at"]), "user": e["user"],
         "propensity": float(e["propensity"]) if e["propensity"] else None}
        for e in events])
