"""Marketer rules: create, list, update, delete; each write validated by the core's rules."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.rules import Rule
from recommender.domain import StageConfig
from recommender.errors import ConflictError, NotFoundError, ValidationError
from recommender.ranking.rules import RuleSpec, validate_rule
from web.runtime import Baton


def rule_to_dict(rule: Rule) -> dict:
    """Return a stored rule as JSON-able data."""
    return {
        "id": rule.id,
        "name": rule.name,
        "condition": rule.condition,
        "action": rule.action,
        "target": rule.target,
        "weight": rule.weight,
        "active": rule.active,
        "created_by": rule.created_by,
        "created_at": rule.created_at.isoformat() + "Z" if rule.created_at else None,
        "updated_at": rule.updated_at.isoformat() + "Z" if rule.updated_at else None,
    }


def rule_spec(rule: Rule, stages: StageConfig | None = None) -> RuleSpec:
    """Return the validated ``RuleSpec`` of a stored rule (stage names checked against
    ``stages`` when given)."""
    return validate_rule({"name": rule.name, "condition": rule.condition, "action": rule.action,
                          "target": rule.target, "weight": rule.weight, "active": rule.active},
                         stages)


def _name_taken(session: Session, name: str, except_id: int | None = None) -> bool:
    query = select(Rule.id).where(Rule.name == name)
    if except_id is not None:
        query = query.where(Rule.id != except_id)
    return session.scalar(query) is not None


def _apply(rule: Rule, spec: RuleSpec) -> None:
    data = spec.to_dict()
    rule.name, rule.condition, rule.action = spec.name, data["condition"], spec.action
    rule.target, rule.weight, rule.active = data["target"], spec.weight, spec.active


def create_rule(baton: Baton, session: Session, data: Mapping, user: str = "") -> Rule:
    """Validate and store a new rule; a duplicate name is a conflict."""
    spec = validate_rule(data, baton.stages)
    if _name_taken(session, spec.name):
        raise ConflictError(f"a rule named {spec.name!r} already exists")
    rule = Rule(created_by=user)
    _apply(rule, spec)
    session.add(rule)
    session.commit()
    _invalidate(baton)
    return rule


def list_rules(baton: Baton, session: Session, active_only: bool = False) -> list[Rule]:
    """Return the rules, oldest first."""
    query = select(Rule).order_by(Rule.id)
    if active_only:
        query = query.where(Rule.active.is_(True))
    return list(session.scalars(query))


def get_rule(baton: Baton, session: Session, rule_id: int | str) -> Rule:
    """Return a rule by id (or by name); unknown raises ``NotFoundError``."""
    rule = None
    if isinstance(rule_id, int) or str(rule_id).isdigit():
        rule = session.get(Rule, int(rule_id))
    if rule is None:
        rule = session.scalar(select(Rule).where(Rule.name == str(rule_id)))
    if rule is None:
        raise NotFoundError(f"unknown rule {rule_id!r}")
    return rule


def update_rule(baton: Baton, session: Session, rule_id: int | str, changes: Mapping) -> Rule:
    """Apply ``changes`` to a rule, validate the result and store it."""
    if not isinstance(changes, Mapping):
        raise ValidationError("rule changes must be a mapping")
    rule = get_rule(baton, session, rule_id)
    merged = {"name": rule.name, "condition": rule.condition, "action": rule.action,
              "target": rule.target, "weight": rule.weight, "active": rule.active}
    if "action" in changes and changes["action"] != "boost" and "weight" not in changes:
        merged["weight"] = 0.0
    merged.update({k: v for k, v in changes.items() if k not in ("id",)})
    spec = validate_rule(merged, baton.stages)
    if _name_taken(session, spec.name, except_id=rule.id):
        raise ConflictError(f"a rule named {spec.name!r} already exists")
    _apply(rule, spec)
    session.commit()
    _invalidate(baton)
    return rule


def delete_rule(baton: Baton, session: Session, rule_id: int | str) -> None:
    """Delete a rule."""
    rule = get_rule(baton, session, rule_id)
    session.delete(rule)
    session.commit()
    _invalidate(baton)


def _invalidate(baton: Baton) -> None:
    baton.cache.pop("recommend.rules", None)
