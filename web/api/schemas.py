"""Marshmallow schemas of the JSON API: they parse requests and document the OpenAPI 3 spec."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from recommender.domain import ASSET_TYPES, EVENT_TYPES, OPPORTUNITY_STATUSES


class UtcDateTime(fields.DateTime):
    """Stored times are naive UTC: serialise them with their offset, as RFC 3339 requires."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(Schema):
    """Request bodies: unknown keys are an error (422) that names them."""

    class Meta:
        unknown = RAISE


class QuerySchema(Schema):
    """Query strings: unknown parameters are ignored (CRMs add their own)."""

    class Meta:
        unknown = EXCLUDE


# --- errors -------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"example": "not_found"})
    message = fields.String(required=True, metadata={"example": "unknown asset 'x'"})
    details = fields.Raw(metadata={"description": "optional: per-field messages, known values"})


class ErrorSchema(Schema):
    """The one error envelope: ``{"error": {"code": ..., "message": ...}}``."""

    error = fields.Nested(ErrorBodySchema, required=True)


# --- assets -------------------------------------------------------------------------------


class AssetSchema(Schema):
    id = fields.String(required=True)
    title = fields.String()
    type = fields.String(metadata={"enum": list(ASSET_TYPES)})
    type_source = fields.String()
    stage = fields.String(metadata={"description": "buying stage"})
    stage_source = fields.String(metadata={"description": "given | auto | confirmed"})
    stage_confidence = fields.Float(allow_none=True)
    personas = fields.List(fields.String())
    industries = fields.List(fields.String())
    products = fields.List(fields.String())
    url = fields.String(allow_none=True)
    expires = fields.Date(allow_none=True)
    owner = fields.String(allow_none=True)
    review_by = fields.Date(allow_none=True)
    status = fields.String(metadata={"description": "active | archived | retired"})
    media_type = fields.String()
    file_size = fields.Integer()
    word_count = fields.Integer()
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class AssetHitSchema(AssetSchema):
    score = fields.Float(metadata={"description": "semantic match to q (only with q)"})
    passage = fields.String(metadata={"description": "best-matching passage (only with q)"})


class AssetQuerySchema(QuerySchema):
    stage = fields.String(metadata={"description": "buying stage (or a pipeline stage name)"})
    type = fields.String(validate=validate.OneOf(ASSET_TYPES))
    persona = fields.String()
    industry = fields.String()
    q = fields.String(metadata={"description": "semantic search: ranks by meaning when given"})
    status = fields.String(load_default="active",
                           validate=validate.OneOf(("active", "archived", "retired", "all")))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1), metadata={
        "description": "page size, capped at the server's BATON_PAGE_SIZE_MAX (default 100)"})


class AssetPageSchema(Schema):
    items = fields.List(fields.Nested(AssetHitSchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "matches across all pages"})


class AssetUploadSchema(QuerySchema):
    """A multipart upload: the file and its metadata fields (lists are comma-separated)."""

    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    id = fields.String()
    title = fields.String()
    type = fields.String(validate=validate.OneOf(ASSET_TYPES))
    stage = fields.String()
    personas = fields.String(metadata={"description": "comma-separated"})
    industries = fields.String(metadata={"description": "comma-separated"})
    products = fields.String(metadata={"description": "comma-separated"})
    url = fields.String()
    expires = fields.Date()
    owner = fields.String()


class AssetPatchSchema(StrictSchema):
    title = fields.String(validate=validate.Length(min=1, max=500))
    type = fields.String(validate=validate.OneOf(ASSET_TYPES))
    stage = fields.String()
    personas = fields.List(fields.String())
    industries = fields.List(fields.String())
    products = fields.List(fields.String())
    url = fields.String(allow_none=True)
    expires = fields.Date(allow_none=True)
    owner = fields.String(allow_none=True)
    review_by = fields.Date(allow_none=True)
    status = fields.String(validate=validate.OneOf(("active", "archived")))


# --- opportunities and recommendations ----------------------------------------------------


class OpportunityInSchema(StrictSchema):
    """A CRM upsert. Times are ISO 8601; a stage change is appended to the stage history."""

    opportunity_id = fields.String(metadata={"description": "optional; must match the URL"})
    name = fields.String()
    account = fields.String()
    industry = fields.String()
    persona = fields.String()
    amount = fields.Float(allow_none=True, validate=validate.Range(min=0))
    owner = fields.String()
    created_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    pipeline = fields.String(metadata={"example": "salesforce"})
    stage = fields.String(metadata={"example": "Needs Analysis"})
    stage_entered_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    status = fields.String(validate=validate.OneOf(OPPORTUNITY_STATUSES))
    closed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    notes = fields.String()
    products = fields.List(fields.String())


class StuckSchema(Schema):
    stuck = fields.Boolean()
    days_in_stage = fields.Float(allow_none=True)
    threshold_days = fields.Float(allow_none=True)
    reason = fields.String()


class OpportunitySummarySchema(Schema):
    opportunity_id = fields.String(required=True)
    name = fields.String()
    account = fields.String()
    industry = fields.String()
    persona = fields.String()
    amount = fields.Float(allow_none=True)
    owner = fields.String()
    created_at = UtcDateTime(allow_none=True)
    pipeline = fields.String()
    stage = fields.String()
    buying_stage = fields.String(allow_none=True)
    stage_entered_at = UtcDateTime(allow_none=True)
    status = fields.String()
    closed_at = UtcDateTime(allow_none=True)
    notes = fields.String()
    products = fields.List(fields.String())
    updated_at = UtcDateTime()


class OpportunitySchema(OpportunitySummarySchema):
    stuck = fields.Nested(StuckSchema, allow_none=True)


class OpportunityQuerySchema(QuerySchema):
    stage = fields.String(metadata={"description": "pipeline stage"})
    buying_stage = fields.String()
    status = fields.String(validate=validate.OneOf(OPPORTUNITY_STATUSES))
    owner = fields.String()
    industry = fields.String()
    pipeline = fields.String()
    q = fields.String(metadata={"description": "matches name, account or id"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1), metadata={
        "description": "page size, capped at the server's BATON_PAGE_SIZE_MAX (default 100)"})


class OpportunityPageSchema(Schema):
    items = fields.List(fields.Nested(OpportunitySummarySchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class RecommendationsQuerySchema(QuerySchema):
    k = fields.Integer(load_default=5, validate=validate.Range(min=1, max=50))


class RecommendedAssetSchema(Schema):
    asset_id = fields.String(required=True)
    title = fields.String()
    url = fields.String(allow_none=True)
    type = fields.String()
    stage = fields.String()
    score = fields.Float()
    reasons = fields.List(fields.String())
    recommendation_id = fields.String(allow_none=True)
    passage = fields.String(metadata={"description": "the asset's passage that best fits the deal"})
    propensity = fields.Float(metadata={
        "description": "probability the serving policy showed this asset (off-policy learning)"})
    rank = fields.Integer()


class RecommendationListSchema(Schema):
    """A served, logged list: ``recommendations`` is ranked best first."""

    opportunity_id = fields.String(required=True)
    recommendation_id = fields.String(allow_none=True)
    buying_stage = fields.String()
    note = fields.String()
    recommendations = fields.List(fields.Nested(RecommendedAssetSchema), required=True,
                                  attribute="items")


# --- events -------------------------------------------------------------------------------


class EventSchema(Schema):
    """One content event (the shape of ``content_events.csv``)."""

    event_id = fields.String(metadata={"description": "stable id; a replay never double counts"})
    opportunity_id = fields.String(required=True)
    asset_id = fields.String(required=True)
    event_type = fields.String(required=True, validate=validate.OneOf(EVENT_TYPES))
    stage = fields.String()
    occurred_at = fields.String(metadata={"format": "date-time"})
    user = fields.String()
    propensity = fields.Float(allow_none=True)
    recommendation_id = fields.String(allow_none=True)


class EventsResultSchema(Schema):
    created = fields.List(fields.String(), required=True)
    duplicates = fields.List(fields.String(), required=True)


# --- rules --------------------------------------------------------------------------------


class RuleInSchema(Schema):
    """A marketer rule; see ``recommender.ranking.rules`` for conditions, actions and targets."""

    name = fields.String(metadata={"example": "Logistics CFOs see the ROI calculator"})
    condition = fields.Raw(metadata={"example": {"industry": "logistics",
                                                 "amount": {"gte": 50000}}})
    action = fields.String(validate=validate.OneOf(("include", "boost", "exclude")))
    target = fields.Raw(metadata={"example": {"type": "roi_calculator"}})
    weight = fields.Float(allow_none=True)
    active = fields.Boolean()


class RuleSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String()
    condition = fields.Raw()
    action = fields.String()
    target = fields.Raw()
    weight = fields.Float()
    active = fields.Boolean()
    created_by = fields.String()
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


# --- share links and sidebar tokens -------------------------------------------------------


class ShareInSchema(StrictSchema):
    opportunity_id = fields.String(required=True)
    asset_id = fields.String(required=True)
    recommendation_id = fields.String(allow_none=True)


class ShareSchema(Schema):
    id = fields.Integer(required=True)
    token = fields.String(metadata={"description": "shown once; only its hash is stored"})
    url = fields.String(required=True, metadata={"example": "/r/3q2...", "description":
                                                 "path of the tracked link on this server"})
    absolute_url = fields.String()
    asset_id = fields.String()
    opportunity_id = fields.String()
    created_at = fields.String()
    event_id = fields.String()


class SidebarTokenInSchema(StrictSchema):
    opportunity_id = fields.String(required=True)
    minutes = fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60), metadata={
        "description": "lifetime; default BATON_SIDEBAR_TOKEN_MINUTES"})
    user = fields.String(validate=validate.Length(max=200),
                         metadata={"description": "the CRM user, recorded on events"})


class SidebarTokenSchema(Schema):
    token = fields.String(required=True)
    url = fields.String(required=True, metadata={"example": "/sidebar/006A?token=..."})
    opportunity_id = fields.String(required=True)
    expires_at = UtcDateTime(required=True)
