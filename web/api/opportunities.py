"""API resource: opportunities (CRM upsert and read) and their recommendations."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from recommender.errors import ValidationError
from web.api.common import access, clamp_per_page
from web.api.schemas import (
    OpportunityInSchema,
    OpportunityPageSchema,
    OpportunityQuerySchema,
    OpportunitySchema,
    RecommendationListSchema,
    RecommendationsQuerySchema,
)
from web.auth import principal_name, sidebar_scope_error
from web.db import get_baton, get_session
from web.services.crm.opportunities import get_opportunity, upsert_opportunity
from web.services.queries.deals import list_opportunities, stuck_flag
from web.services.ranking.recommendations import recommend

blp = Blueprint("opportunities", __name__, url_prefix="/api/v1/opportunities",
                description="CRM deals: upsert from a CRM webhook, read with the stuck flag, "
                            "and ask what to send next.")


def _with_stuck(opp) -> dict:
    data = {name: getattr(opp, name) for name in OpportunitySchema().fields if name != "stuck"}
    data["stuck"] = stuck_flag(get_baton(), get_session(), opp)
    return data


@blp.route("")
class Opportunities(MethodView):
    @access(blp, "rep")
    @blp.arguments(OpportunityQuerySchema, location="query", as_kwargs=True)
    @blp.response(200, OpportunityPageSchema)
    def get(self, page: int, per_page: int, **filters):
        """List deals by stage, status, owner, industry or a name search, a page at a time."""
        baton = get_baton()
        per_page = clamp_per_page(per_page, baton.settings.page_size_max)
        rows, total = list_opportunities(baton, get_session(), filters, page=page,
                                         per_page=per_page)
        return {"items": rows, "page": page, "per_page": per_page, "total": total}


@blp.route("/<opportunity_id>")
class OpportunityResource(MethodView):
    @access(blp, "rep")
    @blp.response(200, OpportunitySchema)
    def get(self, opportunity_id: str):
        """Return a deal with its buying stage and stuck flag."""
        return _with_stuck(get_opportunity(get_session(), opportunity_id))

    @access(blp, "rep")
    @blp.arguments(OpportunityInSchema)
    @blp.response(200, OpportunitySchema, description="updated")
    @blp.alt_response(201, schema=OpportunitySchema, description="created", success=True)
    def put(self, data: dict, opportunity_id: str):
        """Create or update a deal from the CRM; a stage change is appended to its history.

        Needs `rep` or higher: CRM integrations usually run with a rep-level key.
        """
        if data.pop("opportunity_id", opportunity_id) != opportunity_id:
            raise ValidationError("opportunity_id in the body differs from the one in the URL")
        opp, created = upsert_opportunity(get_baton(), get_session(), opportunity_id, data)
        return _with_stuck(opp), 201 if created else 200


@blp.route("/<opportunity_id>/recommendations")
class Recommendations(MethodView):
    @access(blp, "rep", sidebar=True)
    @blp.arguments(RecommendationsQuerySchema, location="query")
    @blp.response(200, RecommendationListSchema)
    def get(self, query: dict, opportunity_id: str):
        """Return the ranked assets to send now, with scores and reasons (logged)."""
        denied = sidebar_scope_error([opportunity_id])
        if denied is not None:
            return denied
        return recommend(get_baton(), get_session(), opportunity_id, k=query["k"],
                         user=principal_name())
