"""API resource: marketer rules (include / boost / exclude content for matching deals)."""

from __future__ import annotations

from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from web.api.common import access
from web.api.schemas import RuleInSchema, RuleSchema
from web.auth import principal_name
from web.db import get_baton, get_session
from web.services.ranking.rules import (
    create_rule,
    delete_rule,
    get_rule,
    list_rules,
    rule_to_dict,
    update_rule,
)

blp = Blueprint("rules", __name__, url_prefix="/api/v1/rules",
                description="Marketer rules: for deals where <condition>, always include, "
                            "boost or never show <asset or tag>.")


@blp.route("")
class Rules(MethodView):
    @access(blp, "marketer")
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """List the rules, oldest first."""
        rules = list_rules(get_baton(), get_session())
        return [rule_to_dict(r) for r in rules]

    @access(blp, "marketer")
    @blp.arguments(RuleInSchema)
    @blp.response(201, RuleSchema)
    def post(self, data: dict):
        """Create a rule (validated; a duplicate name is a conflict)."""
        rule = create_rule(get_baton(), get_session(), data, user=principal_name())
        return (rule_to_dict(rule), 201,
                {"Location": url_for("rules.RuleResource", rule_id=rule.id)})


@blp.route("/<rule_id>")
class RuleResource(MethodView):
    @access(blp, "marketer")
    @blp.response(200, RuleSchema)
    def get(self, rule_id: str):
        """Return one rule (by id or name)."""
        return rule_to_dict(get_rule(get_baton(), get_session(), rule_id))

    @access(blp, "marketer")
    @blp.arguments(RuleInSchema)
    @blp.response(200, RuleSchema)
    def patch(self, changes: dict, rule_id: str):
        """Change a rule; the result is validated as a whole."""
        rule = update_rule(get_baton(), get_session(), rule_id, changes)
        return rule_to_dict(rule)

    @access(blp, "marketer")
    @blp.response(204)
    def delete(self, rule_id: str):
        """Delete a rule."""
        delete_rule(get_baton(), get_session(), rule_id)
