"""Marketer analytics: influence forest plot, funnel, gaps heatmap, feedback and requests,
quarterly review download."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from recommender.errors import BatonError
from web.db import get_baton, get_session
from web.services import content_requests
from web.services.learning.analytics import quarterly_review as build_quarterly_review
from web.services.queries.analytics import (
    feedback_summary,
    funnel_rows,
    gap_cells,
    influence_page,
)
from web.services.queries.library import asset_titles
from web.services.queries.paging import Page, clamp_page
from web.ui import forms
from web.ui.auth import login_required
from web.ui.blueprint import bp
from web.ui.charts import forest_plot, heatmap


@bp.get("/analytics")
@login_required("marketer")
def analytics():
    """Show each asset's influence per stage as a forest plot beside its table."""
    stage = request.args.get("stage", "")
    page, per_page = forms.paging(25)
    baton, error = get_baton(), None
    try:
        results = influence_page(baton, get_session(), stage, page, per_page)
    except BatonError as exc:
        results, error = Page([], page, per_page, 0), str(exc)
    return render_template("ui/analytics.html", results=results, stage=stage, error=error,
                           plot=forest_plot(results.items), stages=baton.stages)


@bp.get("/analytics/funnel")
@login_required("marketer")
def funnel():
    """Show the funnel and the time spent in each pipeline stage."""
    rows = funnel_rows(get_baton(), get_session())
    return render_template("ui/funnel.html", rows=rows)


@bp.get("/analytics/gaps")
@login_required("marketer")
def gaps():
    """Show the gaps heatmap: buying stage by persona, filterable by industry."""
    industry = request.args.get("industry", "")
    baton = get_baton()
    plot = heatmap(gap_cells(baton, get_session()), baton.stages, industry)
    return render_template("ui/gaps.html", plot=plot, industry=industry, stages=baton.stages)


@bp.get("/analytics/feedback")
@login_required("marketer")
def feedback_queue():
    """Show rep feedback and the content-request queue with its status."""
    session = get_session()
    status = request.args.get("status", "")
    page, per_page = forms.paging(25)
    recent_page, _ = clamp_page(request.args.get("rpage", 1))
    summary, recent = feedback_summary(session, recent_page, 10)
    queue = content_requests.list_requests(get_baton(), session, status, page, per_page)
    return render_template("ui/feedback.html", summary=summary, recent=recent, queue=queue,
                           status=status, counts=content_requests.request_counts(session),
                           titles=asset_titles(session, {e.asset_id for e in recent.items}))


@bp.post("/analytics/requests/<int:request_id>")
@login_required("marketer")
def set_request_status(request_id: int):
    """Move a content request along the queue."""
    content_requests.set_request_status(get_baton(), get_session(), request_id,
                                        forms.text("status", 12))
    flash("Request updated.", "ok")
    return redirect(url_for("ui.feedback_queue", **request.args))


@bp.get("/analytics/quarterly-review.<fmt>")
@login_required("marketer")
def quarterly_review(fmt: str):
    """Download the quarterly review as Markdown or CSV."""
    if fmt not in ("md", "csv"):
        abort(404, description="the review comes as .md or .csv")
    markdown, csv_text = build_quarterly_review(get_baton(), get_session())
    body, mime = (markdown, "text/markdown") if fmt == "md" else (csv_text, "text/csv")
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=baton-quarterly-review.{fmt}"})
