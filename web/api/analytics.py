"""API resource: analytics for marketers (content influence, gaps, the quarterly review)."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from web.api.common import access
from web.api.schemas import ErrorSchema, QuerySchema
from web.db import get_baton, get_session
from web.services.learning import analytics

blp = Blueprint("analytics", __name__, url_prefix="/api/v1/analytics",
                description="Content influence (causal effect estimates), gaps and review.")


class InfluenceQuerySchema(QuerySchema):
    stage = fields.String(metadata={"description": "buying stage (or a pipeline stage name)"})
    segments = fields.Boolean(load_default=False,
                              metadata={"description": "also return per-segment rows"})
    min_support = fields.Integer(load_default=analytics.MIN_SUPPORT,
                                 validate=validate.Range(min=0, max=1_000_000),
                                 metadata={"description": "stage visits needed for a verdict"})


class InfluenceRowSchema(Schema):
    asset_id = fields.String(required=True)
    title = fields.String()
    type = fields.String()
    buying_stage = fields.String()
    segment = fields.String(metadata={"description": "empty for the pooled estimate"})
    effect = fields.Float(allow_none=True, metadata={
        "description": "estimated change in the probability of advancing out of the stage "
                       "when the asset is shared"})
    lower = fields.Float(allow_none=True, metadata={"description": "90% interval, lower"})
    upper = fields.Float(allow_none=True, metadata={"description": "90% interval, upper"})
    support = fields.Integer(metadata={"description": "stage visits with the asset shared"})
    win_rate_used = fields.Float(allow_none=True, metadata={
        "description": "naive: share of closed deals won when the asset was shared (not causal)"})
    win_rate_not_used = fields.Float(allow_none=True, metadata={
        "description": "naive: share of closed deals won that reached the stage without it"})
    deals_used = fields.Integer()
    win_effect = fields.Float(allow_none=True, metadata={
        "description": "estimated change in the probability of winning the deal"})
    win_lower = fields.Float(allow_none=True)
    win_upper = fields.Float(allow_none=True)
    verdict = fields.String(metadata={
        "enum": ["helps", "no evidence", "hurts", "not enough data"]})
    explanation = fields.String()


class InfluenceSchema(Schema):
    model_trained = fields.Boolean(required=True)
    message = fields.String(allow_none=True)
    min_support = fields.Integer()
    rows = fields.List(fields.Nested(InfluenceRowSchema), required=True)


class GapQuerySchema(QuerySchema):
    all = fields.Boolean(load_default=False, metadata={"description": "include covered cells"})


class GapCellSchema(Schema):
    buying_stage = fields.String(required=True)
    persona = fields.String()
    industry = fields.String()
    status = fields.String(metadata={
        "enum": ["no asset", "no asset that helps", "unknown", "covered"]})
    asset_count = fields.Integer()
    tailored_count = fields.Integer()
    helping_count = fields.Integer()
    helping_assets = fields.List(fields.String())
    assets = fields.List(fields.String())
    open_requests = fields.Integer()
    open_opportunities = fields.Integer()
    explanation = fields.String()


class GapsSchema(Schema):
    model_trained = fields.Boolean(required=True)
    message = fields.String(allow_none=True)
    cells = fields.List(fields.Nested(GapCellSchema), required=True)


class ReviewQuerySchema(QuerySchema):
    format = fields.String(load_default="markdown",
                           validate=validate.OneOf(("markdown", "csv")))
    period = fields.String(load_default="", validate=validate.Length(max=40))


REVIEW_DOC = ("The quarterly content review: a Markdown download, or CSV with format=csv (text "
              "cells neutralised against spreadsheet formula injection).")


def _message(trained: bool) -> str | None:
    return None if trained else analytics.NOT_TRAINED


@blp.route("/influence")
@access(blp, "marketer")
@blp.arguments(InfluenceQuerySchema, location="query")
@blp.response(200, InfluenceSchema)
@blp.alt_response(422, schema=ErrorSchema, description="unknown stage")
def get_influence(args):
    """Return per asset and stage the effect estimate, interval, support and verdict."""
    baton, session = get_baton(), get_session()
    rows = analytics.influence(baton, session, stage=args.get("stage"),
                               min_support=args["min_support"],
                               include_segments=args["segments"])
    trained = analytics.current_model(baton) is not None
    return {"model_trained": trained, "message": _message(trained),
            "min_support": args["min_support"], "rows": [r.to_dict() for r in rows]}


@blp.route("/gaps")
@access(blp, "marketer")
@blp.arguments(GapQuerySchema, location="query")
@blp.response(200, GapsSchema)
def get_gaps(args):
    """Return buying stage × persona × industry cells with no asset, or none that helps."""
    baton, session = get_baton(), get_session()
    cells = analytics.gaps(baton, session, include_covered=args["all"])
    trained = analytics.current_model(baton) is not None
    return {"model_trained": trained, "message": _message(trained),
            "cells": [c.to_dict() for c in cells]}


@blp.route("/review")
@access(blp, "marketer")
@blp.doc(responses={"200": {"description": REVIEW_DOC, "content": {
    "text/markdown": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}}}}})
@blp.arguments(ReviewQuerySchema, location="query")
@blp.response(200, description=REVIEW_DOC, content_type="text/markdown")
def get_review(args):
    """Download the quarterly content review (Markdown or CSV)."""
    markdown, csv_text = analytics.quarterly_review(get_baton(), get_session(),
                                                    period=args["period"])
    if args["format"] == "csv":
        body, mimetype, name = csv_text, "text/csv", "content-review.csv"
    else:
        body, mimetype, name = markdown, "text/markdown", "content-review.md"
    return Response(body, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
