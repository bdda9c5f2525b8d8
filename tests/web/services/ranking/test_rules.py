"""Rules CRUD: validation on every write, unique names, updates, deletion."""

from __future__ import annotations

import pytest

from recommender.errors import ConflictError, NotFoundError, ValidationError
from web.services.ranking import rules

RULE = {"name": "cfo roi", "condition": {"persona": "cfo", "amount": {"gte": 10000}},
        "action": "boost", "target": {"type": "roi_calculator"}, "weight": 0.6}


def test_create_list_update_delete(baton):
    with baton.session() as session:
        rule = rules.create_rule(baton, session, RULE, user="mia")
        stored = rules.rule_to_dict(rule)
        assert stored["condition"] == {"all": [
            {"field": "persona", "op": "eq", "value": "cfo"},
            {"field": "amount", "op": "gte", "value": 10000.0}]}
        assert stored["created_by"] == "mia" and stored["active"] is True
        updated = rules.update_rule(baton, session, rule.id, {"action": "exclude",
                                                             "active": False})
        assert (updated.action, updated.weight, updated.active) == ("exclude", 0.0, False)
        assert [r.name for r in rules.list_rules(baton, session)] == ["cfo roi"]
        assert rules.list_rules(baton, session, active_only=True) == []
        assert rules.get_rule(baton, session, "cfo roi").id == rule.id
        rules.delete_rule(baton, session, rule.id)
        assert rules.list_rules(baton, session) == []


def test_invalid_duplicate_and_unknown(baton):
    with baton.session() as session:
        rules.create_rule(baton, session, RULE)
        with pytest.raises(ConflictError, match="'cfo roi' already exists"):
            rules.create_rule(baton, session, RULE)
        other = rules.create_rule(baton, session, {**RULE, "name": "other"})
        with pytest.raises(ConflictError):
            rules.update_rule(baton, session, other.id, {"name": "cfo roi"})
        with pytest.raises(ValidationError, match="target.type: unknown type 'memo'"):
            rules.update_rule(baton, session, other.id, {"target": {"type": "memo"}})
        assert rules.get_rule(baton, session, other.id).target == {"type": "roi_calculator"}
        with pytest.raises(NotFoundError, match="unknown rule 42"):
            rules.delete_rule(baton, session, 42)
