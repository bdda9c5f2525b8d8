"""CRM export formats: the ``baton`` three-file format, stage resolution and file detection.

Readers are generators over one file: each yields ``(line, record)`` with a validated
``OpportunityRecord`` / ``StageChangeRecord`` / ``EventRecord``, or a ``RowError`` for a row that
cannot be imported (the reason names the column and the value). The vendor formats live in
``recommender.crm.vendors``; the importer picks a reader by ``(format, kind)``, and
``recommender.crm.records`` turns the records into column values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from recommender.crm.csv_reading import (
    RowError,
    first,
    iter_csv,
    parse_amount,
    parse_datetime,
    parse_probability,
    read_header,
    split_list,
)
from recommender.domain import (
    EVENT_TYPES,
    OPPORTUNITY_STATUSES,
    EventRecord,
    OpportunityRecord,
    PipelineStage,
    StageChangeRecord,
    StageConfig,
    normalize_name,
)
from recommender.errors import BatonError, UnknownStageError, ValidationError

FORMATS: tuple[str, ...] = ("baton", "salesforce", "hubspot")
# What a file holds, in the order an import must load them.
KINDS: tuple[str, ...] = ("accounts", "opportunities", "stage_history", "events")

Item = tuple[int, object] | RowError


class StageResolver:
    """Resolve stage names of one import to canonical pipeline stages, memoised.

    ``preferred`` is the pipeline a vendor format's stages belong to (e.g. ``hubspot``); stages
    are looked up there only. Without it, the default pipeline is searched first, then the others.
    """

    def __init__(self, stages: StageConfig, preferred: str | None = None):
        self.stages = stages
        names = {normalize_name(p.name) for p in stages.pipelines}
        self.preferred = preferred if preferred and normalize_name(preferred) in names else None
        self._memo: dict[tuple[str, str | None], tuple[str, PipelineStage]] = {}
        self._buying_memo: dict[tuple[str, str | None], str | None] = {}
        self._event_memo: dict[tuple[str, str | None], tuple[str, str | None] | BatonError] = {}

    def _candidates(self, pipeline: str | None):
        wanted = pipeline or self.preferred
        if wanted:
            return [self.stages.pipeline(wanted)]
        default = self.stages.pipeline()
        return [default, *[p for p in self.stages.pipelines if p.name != default.name]]

    def find(self, name: str, pipeline: str | None = None) -> tuple[str, PipelineStage]:
        """Return ``(pipeline name, stage)`` for a pipeline stage name or label.

        Raises ``UnknownStageError`` naming the stage and listing the known ones.
        """
        key = (name, pipeline)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        candidates = self._candidates(pipeline)
        for candidate in candidates:
            found = candidate.find(name)
            if found is not None:
                self._memo[key] = (candidate.name, found)
                return candidate.name, found
        raise UnknownStageError(str(name).strip(), [s.name for c in candidates for s in c.stages])

    def buying_stage(self, name: str, pipeline: str | None = None) -> str | None:
        """Map a buying-stage or pipeline-stage name to its buying stage (terminal → None)."""
        key = (name, pipeline)
        if key in self._buying_memo:
            return self._buying_memo[key]
        norm = normalize_name(name)
        result: str | None = None
        for b in self.stages.buying_stages:
            if normalize_name(b.name) == norm or normalize_name(b.label) == norm:
                result = b.name
                break
        else:
            try:
                result = self.find(name, pipeline)[1].buying_stage
            except UnknownStageError:
                known = [*self.stages.buying_stage_names,
                         *[s.name for c in self._candidates(pipeline) for s in c.stages]]
                raise UnknownStageError(str(name).strip(), known) from None
        self._buying_memo[key] = result
        return result

    def event_stage(self, name: str, pipeline: str | None = None) -> tuple[str, str | None]:
        """Return ``(stored stage name, buying stage)`` for an event's stage column.

        A buying-stage name is stored as such; a pipeline stage under its configured name.
        Results (and errors) are memoised: events files repeat a handful of stage names.
        """
        key = (name, pipeline)
        hit = self._event_memo.get(key)
        if hit is None:
            try:
                buying = self.buying_stage(name, pipeline)
                try:
                    stored = self.canonical(name, pipeline)
                except UnknownStageError:
                    stored = buying or name.strip()
                hit = (stored, buying)
            except BatonError as exc:
                hit = exc
            self._event_memo[key] = hit
        if isinstance(hit, BatonError):
            raise hit
        return hit

    def canonical(self, name: str, pipeline: str | None = None) -> str:
        """Return the configured name of a pipeline stage given its name or label."""
        return self.find(name, pipeline)[1].name


def status_for(stage: PipelineStage, status: str = "", is_closed: bool | None = None,
               is_won: bool | None = None) -> str:
    """Return ``open|won|lost`` from an explicit status, IsClosed/IsWon flags or the stage.

    A status that contradicts a terminal stage (``won`` at ``Closed Lost``) is a ValidationError.
    """
    text = status.strip().lower()
    if text:
        if text not in OPPORTUNITY_STATUSES:
            raise ValidationError(
                f"bad status {status!r}; expected one of {', '.join(OPPORTUNITY_STATUSES)}"
            )
    elif is_closed is not None or is_won is not None:
        closed = is_closed if is_closed is not None else (
            stage.outcome is not None or bool(is_won))
        if not closed:
            text = "open"
        elif is_won is None:
            text = stage.outcome or "lost"
        else:
            text = "won" if is_won else "lost"
    else:
        text = stage.outcome or "open"
    if stage.outcome is not None and text != stage.outcome:
        raise ValidationError(f"status {text!r} contradicts the terminal stage {stage.name!r}")
    return text


def _guard(name: str, line: int, build: Callable[[dict[str, str]], object],
           row: dict[str, str]) -> Item:
    """Build a record from a row; a ``BatonError`` becomes a ``RowError`` for that line."""
    try:
        return line, build(row)
    except BatonError as exc:
        return RowError(name, line, str(exc))


# --- the baton format ----------------------------------------------------------------------

OPPORTUNITY_COLUMNS = ("opportunity_id", "stage")
HISTORY_COLUMNS = ("opportunity_id", "to_stage", "changed_at")
EVENT_COLUMNS = ("event_id", "opportunity_id", "asset_id", "event_type", "occurred_at")


def _required_text(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise ValidationError(f"{column} is empty")
    return value


def read_baton_opportunities(path: str | Path, resolver: StageResolver) -> Iterator[Item]:
    """Yield ``OpportunityRecord``s from a baton ``opportunities.csv``."""
    name = str(path)

    def build(row: dict[str, str]) -> OpportunityRecord:
        stage = resolver.find(_required_text(row, "stage"))[1]
        created = parse_datetime(row.get("created_at"), "created_at")
        closed = parse_datetime(row.get("closed_at"), "closed_at")
        status = status_for(stage, row.get("status") or "")
        return OpportunityRecord(
            opportunity_id=_required_text(row, "opportunity_id"),
            name=first(row, "name"),
            account=first(row, "account"),
            industry=first(row, "industry"),
            persona=first(row, "persona"),
            amount=parse_amount(row.get("amount"), "amount"),
            owner=first(row, "owner"),
            created_at=created,
            stage=stage.name,
            stage_entered_at=parse_datetime(row.get("stage_entered_at"), "stage_entered_at"),
            status=status,
            closed_at=closed if status != "open" else None,
            notes=(row.get("notes") or "").strip(),
            products=split_list(row.get("products")),
        )

    for item in iter_csv(path, OPPORTUNITY_COLUMNS):
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        yield _guard(name, line, build, row)


def read_baton_history(path: str | Path, resolver: StageResolver) -> Iterator[Item]:
    """Yield ``StageChangeRecord``s from a baton ``stage_history.csv`` (file order)."""
    name = str(path)

    def build(row: dict[str, str]) -> StageChangeRecord:
        from_raw = (row.get("from_stage") or "").strip()
        changed = parse_datetime(_required_text(row, "changed_at"), "changed_at")
        assert changed is not None
        return StageChangeRecord(
            opportunity_id=_required_text(row, "opportunity_id"),
            from_stage=resolver.canonical(from_raw) if from_raw else None,
            to_stage=resolver.canonical(_required_text(row, "to_stage")),
            changed_at=changed,
        )

    for item in iter_csv(path, HISTORY_COLUMNS):
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        yield _guard(name, line, build, row)


def read_baton_events(path: str | Path, resolver: StageResolver) -> Iterator[Item]:
    """Yield ``EventRecord``s from a baton ``content_events.csv``.

    The stage, when given, is checked (buying or pipeline stage) but kept as written; the
    importer resolves it against the opportunity's pipeline.
    """
    name = str(path)

    def build(row: dict[str, str]) -> EventRecord:
        # The hot path of a million-row import: plain lookups, no helper calls per column.
        event_id = row["event_id"].strip()
        opportunity_id = row["opportunity_id"].strip()
        asset_id = row["asset_id"].strip()
        event_type = row["event_type"].strip().lower()
        occurred_text = row["occurred_at"].strip()
        if not (event_id and opportunity_id and asset_id and event_type and occurred_text):
            for column in ("event_id", "opportunity_id", "asset_id", "event_type",
                           "occurred_at"):
                _required_text(row, column)
        if event_type not in EVENT_TYPES:
            raise ValidationError(
                f"bad event_type {event_type!r}; expected one of {', '.join(EVENT_TYPES)}"
            )
        stage = row.get("stage", "").strip()
        if stage:
            resolver.event_stage(stage)
        propensity = row.get("propensity", "")
        recommendation_id = row.get("recommendation_id", "").strip()
        return EventRecord(
            event_id=event_id,
            opportunity_id=opportunity_id,
            asset_id=asset_id,
            event_type=event_type,
            occurred_at=parse_datetime(occurred_text, "occurred_at"),  # type: ignore[arg-type]
            stage=stage,
            user=row.get("user", "").strip(),
            propensity=parse_probability(propensity, "propensity") if propensity else None,
            recommendation_id=recommendation_id or None,
        )

    for item in iter_csv(path, EVENT_COLUMNS):
        if isinstance(item, RowError):
            yield item
            continue
        line, row = item
        yield _guard(name, line, build, row)


# --- detection -----------------------------------------------------------------------------

_NAMES: dict[str, dict[str, str]] = {
    "baton": {
        "opportunities.csv": "opportunities",
        "stage_history.csv": "stage_history",
        "content_events.csv": "events",
    },
    "salesforce": {
        "opportunity.csv": "opportunities",
        "opportunities.csv": "opportunities",
        "account.csv": "accounts",
        "opportunityhistory.csv": "stage_history",
        "opportunityfieldhistory.csv": "stage_history",
    },
    "hubspot": {"deals.csv": "opportunities"},
}


def _kind_from_header(fmt: str, header: set[str]) -> str | None:
    if {"event_id", "asset_id"} <= header:
        return "events"  # content events are Baton's own file, whatever the CRM
    if fmt == "baton":
        if {"opportunity_id", "to_stage"} <= header:
            return "stage_history"
        if {"opportunity_id", "stage"} <= header:
            return "opportunities"
        return None
    if fmt == "salesforce":
        if {"opportunityid", "stagename"} <= header:
            return "stage_history"
        if "field / event" in header or {"old value", "new value"} <= header:
            return "stage_history"
        if {"id", "stagename"} <= header or {"opportunity id", "stage"} <= header:
            return "opportunities"
        if {"opportunity name", "stage"} <= header:
            return "opportunities"
        if {"id", "name"} <= header:
            return "accounts"
        return None
    if fmt == "hubspot":
        if "deal stage" in header:
            return "opportunities"
        return None
    raise ValidationError(f"unknown CRM format {fmt!r}; expected one of {', '.join(FORMATS)}")


def detect_kind(path: str | Path, fmt: str) -> str | None:
    """Return what a CSV file holds for ``fmt`` (see ``KINDS``), by header row and file name."""
    header = read_header(path)
    kind = _kind_from_header(fmt, set(header)) if header else None
    if kind is None and header is None:
        # Unreadable header: fall back on the name, the reader will report the problem.
        kind = _NAMES.get(fmt, {}).get(Path(path).name.lower())
    return kind


@dataclass
class ImportPlan:
    """The files of one import, by kind, plus what could not be used."""

    files: dict[str, list[Path]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: list[RowError] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def plan_import(paths: Iterable[str | Path], fmt: str) -> ImportPlan:
    """Sort the given files and directories' ``*.csv`` files into kinds for format ``fmt``.

    A named file that is not a recognisable export is an error; in a directory such files are
    skipped and listed.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"unknown CRM format {fmt!r}; expected one of {', '.join(FORMATS)}")
    plan = ImportPlan()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file() and child.suffix.lower() == ".csv":
                    kind = detect_kind(child, fmt)
                    if kind is None:
                        plan.skipped.append(child)
                    else:
                        plan.files[kind].append(child)
        elif p.is_file():
            kind = detect_kind(p, fmt)
            if kind is None:
                plan.errors.append(
                    RowError(str(p), 1, f"not a recognised {fmt} CRM export (check the header "
                             "row and the --format option)")
                )
            else:
                plan.files[kind].append(p)
        else:
            plan.errors.append(RowError(str(p), 0, "no such file or directory"))
    return plan
