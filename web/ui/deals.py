"""Deal desk: the open pipeline, an opportunity with its recommendations, share, feedback,
content requests."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from recommender.errors import BatonError
from web.db import get_baton, get_session
from web.services import content_requests
from web.services.events import record_events
from web.services.queries.deals import deal_detail, known_owners, pipeline_page
from web.services.ranking.recommendations import recommend
from web.services.sharing import create_share_link
from web.ui import forms
from web.ui.auth import current_user, login_required
from web.ui.blueprint import bp


@bp.get("/deals")
@login_required("rep")
def deals():
    """Show the open pipeline by stage, stuck deals highlighted, sortable."""
    args = request.args
    page, per_page = forms.paging(25)
    baton, session = get_baton(), get_session()
    results, summary = pipeline_page(
        baton, session, sort=args.get("sort", "stage"), descending=args.get("desc") == "1",
        stage=args.get("stage", ""), stuck_only=args.get("stuck") == "1",
        owner=args.get("owner", ""), page=page, per_page=per_page)
    return render_template("ui/deals.html", results=results, summary=summary,
                           owners=known_owners(session), args=args)


@bp.get("/deals/<opportunity_id>")
@login_required("rep")
def deal(opportunity_id: str):
    """Show a deal: stage history, what it received, recommendations with reasons."""
    baton, session = get_baton(), get_session()
    detail = deal_detail(baton, session, opportunity_id)
    recs, rec_error = None, None
    try:
        recs = recommend(baton, session, opportunity_id, k=5, user=current_user().email)
    except BatonError as exc:
        session.rollback()
        rec_error = str(exc)
    return render_template("ui/deal.html", d=detail, o=detail.opportunity, recs=recs,
                           rec_error=rec_error, stages=baton.stages)


@bp.post("/deals/<opportunity_id>/share")
@login_required("rep")
def share(opportunity_id: str):
    """Create a tracked share link for an asset; shown once, ready to copy."""
    link = create_share_link(get_baton(), get_session(), opportunity_id,
                             forms.text("asset_id", 200), user=current_user().email,
                             recommendation_id=forms.text("recommendation_id", 64) or None)
    url = request.host_url.rstrip("/") + link.url
    flash(url, "share")
    return redirect(url_for("ui.deal", opportunity_id=opportunity_id) + "#shared")


@bp.post("/deals/<opportunity_id>/feedback")
@login_required("rep")
def feedback(opportunity_id: str):
    """Mark a recommended asset helpful or not helpful for this deal."""
    kind = forms.text("kind", 20)
    if kind not in ("helpful", "not_helpful"):
        abort(400, description="kind must be helpful or not_helpful")
    user = current_user()
    asset_id = forms.text("asset_id", 200)
    recommendation_id = forms.text("recommendation_id", 64)
    event = {"event_id": f"ui:{kind}:{recommendation_id or '-'}:{asset_id}:{user.id}",
             "opportunity_id": opportunity_id, "asset_id": asset_id, "event_type": kind,
             "user": user.email, "recommendation_id": recommendation_id or None}
    record_events(get_baton(), get_session(), [event])
    flash("Thanks: marked helpful." if kind == "helpful" else "Thanks: marked not helpful.",
          "ok")
    return redirect(url_for("ui.deal", opportunity_id=opportunity_id) + "#recommendations")


@bp.post("/deals/<opportunity_id>/request")
@login_required("rep")
def request_content(opportunity_id: str):
    """Ask marketing for content that does not exist yet."""
    baton, session = get_baton(), get_session()
    try:
        content_requests.create_request(
            baton, session, forms.text("need", 2000), requested_by=current_user().email,
            opportunity_id=opportunity_id, buying_stage=forms.text("buying_stage", 40),
            persona=forms.text("persona", 200), industry=forms.text("industry", 200))
    except BatonError as exc:
        session.rollback()
        flash(f"Request not sent: {exc}", "error")
    else:
        flash("Request sent to marketing's queue.", "ok")
    return redirect(url_for("ui.deal", opportunity_id=opportunity_id) + "#request")
