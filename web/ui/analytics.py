"""Marketer analytics: influence forest plot, funnel, gaps heatmap, feedback and requests,
quarterly review download."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from recommender.errors import BatonError
from web.db import get_baton, get_session
from web.services import content_requests
from web.services.queries import analytics as ui_analytics
from web.services.queries import pages as ui_queries
from web.services.queries.pages import optional_service
from web.ui import bp, forms
from web.ui.auth import login_required
from web.ui.charts import forest_plot, heatmap


@bp.get("/analytics")
@login_required("marketer")
def analytics():
    """Show each asset's influence per stage as a forest plot beside its table."""
    stage = request.args.get("stage", "")
    baton, session = get_baton(), get_session()
    error = None
    try:
        rows = ui_analytics.influence_rows(baton, session, stage or None)
    except BatonError as exc:
        rows, error = [], str(exc)
    titles = ui_queries.asset_titles(session, {r["asset_id"] for r in rows if not r["title"]})
    for row in rows:
        row["title"] = row["title"] or titles.get(row["asset_id"], row["asset_id"])
    order = {"helps": 0, "hurts": 1}
    rows.sort(key=lambda r: (order.get(r["verdict"], 2), -(r["effect"] or 0.0)))
    page, per_page = forms.paging(25)
    start = (page - 1) * per_page
    results = ui_queries.Page(rows[start:start + per_page], page, per_page, len(rows))
    return render_template("ui/analytics.html", results=results, stage=stage, error=error,
                           plot=forest_plot(results.items), stages=baton.stages,
                           installed=optional_service("analytics", "influence") is not None)


@bp.get("/analytics/funnel")
@login_required("marketer")
def funnel():
    """Show the funnel and the time spent in each pipeline stage."""
    rows = ui_analytics.funnel_rows(get_baton(), get_session())
    return render_template("ui/funnel.html", rows=rows)


@bp.get("/analytics/gaps")
@login_required("marketer")
def gaps():
    """Show the gaps heatmap: buying stage by persona, filterable by industry."""
    industry = request.args.get("industry", "")
    baton, session = get_baton(), get_session()
    installed = optional_service("analytics", "gaps") is not None
    plot = heatmap(ui_analytics.gap_cells(baton, session), baton.stages, industry)
    return render_template("ui/gaps.html", plot=plot, industry=industry, stages=baton.stages,
                           installed=installed)


@bp.get("/analytics/feedback")
@login_required("marketer")
def feedback_queue():
    """Show rep feedback and the content-request queue with its status."""
    session = get_session()
    status = request.args.get("status", "")
    page, per_page = forms.paging(25)
    recent_page, _ = ui_queries.clamp_page(request.args.get("rpage", 1))
    summary, recent = ui_analytics.feedback_summary(session, recent_page, 10)
    queue = content_requests.list_requests(get_baton(), session, status, page, per_page)
    return render_template("ui/feedback.html", summary=summary, recent=recent, queue=queue,
                           status=status, counts=content_requests.request_counts(session),
                           titles=ui_queries.asset_titles(session,
                                                          {e.asset_id for e in recent.items}))


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
    review = optional_service("analytics", "quarterly_review")
    if review is None:
        abort(404, description="the analytics service is not installed yet")
    markdown, csv_text = review(get_baton(), get_session())
    body, mime = (markdown, "text/markdown") if fmt == "md" else (csv_text, "text/csv")
    return Response(body, mimetype=mime, headers={
        "Content-Disposition": f"attachment; filename=baton-quarterly-review.{fmt}"})
