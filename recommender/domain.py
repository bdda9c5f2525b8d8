"""Baton's shared vocabulary: stages, asset types, events, outcomes and the plain records
that flow between the core, the database layer and the application.

Standard library only, so that ``models`` may import it without pulling in the ML stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from recommender.errors import UnknownStageError, ValidationError

ASSET_TYPES: tuple[str, ...] = (
    "blog_post",
    "ebook",
    "whitepaper",
    "analyst_report",
    "webinar",
    "infographic",
    "case_study",
    "datasheet",
    "demo_video",
    "comparison",
    "battlecard",
    "roi_calculator",
    "pricing_sheet",
    "security_review",
    "implementation_plan",
    "proposal_template",
    "testimonial",
    "faq",
)

EVENT_TYPES: tuple[str, ...] = ("recommended", "shared", "viewed", "helpful", "not_helpful")
OPPORTUNITY_STATUSES: tuple[str, ...] = ("open", "won", "lost")
ROLES: tuple[str, ...] = ("rep", "marketer", "admin")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}

# How a tag was assigned: given by a marketer, inferred by Baton, or inferred then confirmed.
TAG_SOURCES: tuple[str, ...] = ("given", "auto", "confirmed")


def normalize_name(name: str) -> str:
    """Return the matching key of a stage or vocabulary name: trimmed, case-folded."""
    return " ".join(str(name).split()).casefold()


def vocabulary_name(value: str | None, terms: Iterable[VocabularyTerm]) -> str:
    """Return the name of the term whose name or label matches ``value``, else its match key.

    Serving, training and analytics all key a deal's segment (industry, persona, product) with
    this one function, so they agree on it.
    """
    key = normalize_name(value or "")
    for term in terms:
        if key in (normalize_name(term.name), normalize_name(term.label)):
            return term.name
    return key


def slugify(text: str) -> str:
    """Return a lowercase ASCII slug (``a-z0-9`` and single dashes) for ``text``."""
    slug = re.sub(r"[^a-z0-9]+", "-", str(text).casefold()).strip("-")
    return slug


def role_allows(role: str, required: str) -> bool:
    """Return True when ``role`` is at least ``required`` in rep < marketer < admin."""
    if role not in ROLE_RANK or required not in ROLE_RANK:
        return False
    return ROLE_RANK[role] >= ROLE_RANK[required]


@dataclass(frozen=True)
class BuyingStage:
    """A stage of the buyer's journey (awareness, consideration, decision by default)."""

    name: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class PipelineStage:
    """A CRM sales stage, mapped to one buying stage; terminal stages carry an outcome."""

    name: str
    label: str
    buying_stage: str | None
    order: int
    probability: float | None = None
    outcome: str | None = None  # "won" | "lost" for terminal stages, else None

    @property
    def is_terminal(self) -> bool:
        return self.outcome is not None


@dataclass(frozen=True)
class Pipeline:
    """An ordered list of pipeline stages, e.g. Salesforce's or HubSpot's defaults."""

    name: str
    stages: tuple[PipelineStage, ...]

    def find(self, name: str) -> PipelineStage | None:
        key = normalize_name(name)
        for stage in self.stages:
            if normalize_name(stage.name) == key or normalize_name(stage.label) == key:
                return stage
        return None

    @property
    def open_stages(self) -> tuple[PipelineStage, ...]:
        return tuple(s for s in self.stages if not s.is_terminal)


@dataclass(frozen=True)
class VocabularyTerm:
    """One term of a controlled vocabulary (persona, industry, product, asset type)."""

    name: str
    label: str
    description: str = ""


@dataclass(frozen=True)
class StageConfig:
    """Buying stages, the pipelines that map onto them, and the controlled vocabularies."""

    buying_stages: tuple[BuyingStage, ...]
    pipelines: tuple[Pipeline, ...]
    default_pipeline: str
    asset_types: tuple[VocabularyTerm, ...] = ()
    personas: tuple[VocabularyTerm, ...] = ()
    industries: tuple[VocabularyTerm, ...] = ()
    products: tuple[VocabularyTerm, ...] = ()

    @property
    def buying_stage_names(self) -> list[str]:
        return [s.name for s in self.buying_stages]

    def pipeline(self, name: str | None = None) -> Pipeline:
        wanted = normalize_name(name or self.default_pipeline)
        for pipeline in self.pipelines:
            if normalize_name(pipeline.name) == wanted:
                return pipeline
        raise UnknownStageError(name or "", [p.name for p in self.pipelines])

    def known_stage_names(self) -> list[str]:
        names = list(self.buying_stage_names)
        for pipeline in self.pipelines:
            names.extend(s.name for s in pipeline.stages)
        return names

    def buying_stage(self, name: str) -> str:
        """Return the buying stage for a buying-stage name; unknown names raise."""
        key = normalize_name(name)
        for stage in self.buying_stages:
            if normalize_name(stage.name) == key or normalize_name(stage.label) == key:
                return stage.name
        raise UnknownStageError(str(name), self.buying_stage_names)

    def pipeline_stage(self, name: str, pipeline: str | None = None) -> PipelineStage:
        """Return the pipeline stage called ``name`` (name or label, case-insensitive).

        Looks in ``pipeline`` when given, else in the default pipeline first and then in
        every other pipeline. Unknown names raise ``UnknownStageError`` listing the known ones.
        """
        candidates = [self.pipeline(pipeline)] if pipeline else [
            self.pipeline(),
            *[p for p in self.pipelines if p.name != self.default_pipeline],
        ]
        for candidate in candidates:
            found = candidate.find(name)
            if found is not None:
                return found
        known = [s.name for c in candidates for s in c.stages]
        raise UnknownStageError(str(name), known)

    def resolve_buying_stage(self, name: str, pipeline: str | None = None) -> str | None:
        """Map any stage name (buying or pipeline) to its buying stage.

        Terminal pipeline stages map to ``None``. Unknown names raise ``UnknownStageError``.
        """
        key = normalize_name(name)
        for stage in self.buying_stages:
            if normalize_name(stage.name) == key:
                return stage.name
        try:
            return self.pipeline_stage(name, pipeline).buying_stage
        except UnknownStageError:
            raise UnknownStageError(str(name), self.known_stage_names()) from None


@dataclass
class OpportunityRecord:
    """An opportunity (CRM deal) as imported: plain values, already validated."""

    opportunity_id: str
    name: str = ""
    account: str = ""
    industry: str = ""
    persona: str = ""
    amount: float | None = None
    owner: str = ""
    created_at: datetime | None = None
    stage: str = ""
    stage_entered_at: datetime | None = None
    status: str = "open"
    closed_at: datetime | None = None
    notes: str = ""
    products: list[str] = field(default_factory=list)


@dataclass
class StageChangeRecord:
    """One move of an opportunity from one pipeline stage to another."""

    opportunity_id: str
    from_stage: str | None
    to_stage: str
    changed_at: datetime


@dataclass
class EventRecord:
    """One content event: an asset recommended to, shared with, viewed or rated on a deal."""

    event_id: str
    opportunity_id: str
    asset_id: str
    event_type: str
    occurred_at: datetime
    stage: str = ""
    user: str = ""
    propensity: float | None = None
    recommendation_id: str | None = None

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            raise ValidationError(
                f"unknown event_type {self.event_type!r}; expected one of {', '.join(EVENT_TYPES)}"
            )
        if self.propensity is not None and not (0.0 < self.propensity <= 1.0):
            raise ValidationError(f"propensity {self.propensity} is not in (0, 1]")


@dataclass
class AssetMetadata:
    """An asset's metadata from front matter or a sidecar, after validation.

    ``stage`` / ``type`` may be None when the marketer gave none; ingest then infers them.
    """

    id: str
    title: str
    type: str | None = None
    stage: str | None = None
    personas: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    url: str | None = None
    expires: date | None = None
    owner: str | None = None
    review_by: date | None = None


def utc_naive(value: datetime) -> datetime:
    """Return ``value`` as a naive UTC datetime, the one form Baton stores and compares.

    Aware datetimes are converted to UTC; naive ones are taken to be UTC already.
    """
    if value.tzinfo is not None:

        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def utcnow() -> datetime:
    """Return the current time as a naive UTC datetime."""

    return datetime.now(UTC).replace(tzinfo=None)
