"""Library pages: search and facets, asset detail, edit, confirm a tag, upload, review lists."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from recommender.errors import BatonError, ValidationError
from web.db import get_baton, get_session
from web.services.content import editing
from web.services.content.ingest import ingest_upload
from web.services.queries.analytics import influence_rows
from web.services.queries.library import (
    LibraryFilters,
    asset_detail,
    library_facets,
    library_page,
    review_lists,
)
from web.services.queries.paging import Page
from web.ui import forms
from web.ui.auth import current_user, login_required
from web.ui.blueprint import bp

EDITABLE = ("title", "type", "stage", "url", "owner")


@bp.get("/library")
@login_required("rep")
def library():
    """Search the library and filter it by facets."""
    args = request.args
    filters = LibraryFilters(
        q=args.get("q", "")[:500], stage=args.get("stage", ""), type=args.get("type", ""),
        persona=args.get("persona", ""), industry=args.get("industry", ""),
        product=args.get("product", ""), status=args.get("status", "active"),
        needs_review=args.get("needs_review") == "1")
    page, per_page = forms.paging(24)
    error = None
    baton, session = get_baton(), get_session()
    try:
        results, passages = library_page(baton, session, filters, page, per_page)
    except ValidationError as exc:
        results, passages, error = Page([], page, per_page, 0), {}, str(exc)
    facets = library_facets(baton, session)
    return render_template("ui/library.html", results=results, passages=passages,
                           filters=filters, facets=facets, error=error)


@bp.get("/library/assets/<asset_id>")
@login_required("rep")
def asset(asset_id: str):
    """Show an asset: text preview, passages, metadata, influence and history."""
    page, per_page = forms.paging(20)
    baton, session = get_baton(), get_session()
    detail = asset_detail(baton, session, asset_id, page, per_page)
    influence = influence_rows(baton, session, asset_id=asset_id)
    return render_template("ui/asset.html", d=detail, a=detail.asset, influence=influence,
                           stages=baton.stages)


@bp.route("/library/assets/<asset_id>/edit", methods=["GET", "POST"])
@login_required("marketer")
def edit_asset(asset_id: str):
    """Edit an asset's metadata, expiry, owner and review date."""
    baton, session = get_baton(), get_session()
    detail = asset_detail(baton, session, asset_id, 1, 1)
    error = None
    if request.method == "POST":
        try:
            changes = {name: forms.text(name) for name in EDITABLE}
            changes["url"] = changes["url"] or None
            changes["owner"] = changes["owner"] or None
            for name in ("personas", "industries", "products"):
                changes[name] = forms.terms(name)
            changes["expires"] = forms.date_or_none("expires")
            changes["review_by"] = forms.date_or_none("review_by")
            editing.update_asset(baton, session, asset_id, changes)
        except BatonError as exc:
            session.rollback()
            error = str(exc)
        else:
            flash("Saved.", "ok")
            return redirect(url_for("ui.asset", asset_id=asset_id))
    return render_template("ui/asset_edit.html", a=detail.asset, stages=baton.stages,
                           error=error), (422 if error else 200)


@bp.post("/library/assets/<asset_id>/stage")
@login_required("marketer")
def confirm_stage(asset_id: str):
    """Confirm the auto-tagged buying stage, or correct it, in one click."""
    stage = forms.text("stage", 40) or None
    baton, session = get_baton(), get_session()
    editing.confirm_stage(baton, session, asset_id, stage=stage)
    flash(f"Buying stage set to {stage}." if stage else "Buying stage confirmed.", "ok")
    target = forms.text("next", 500)
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("ui.asset", asset_id=asset_id))


@bp.post("/library/assets/<asset_id>/archive")
@login_required("marketer")
def archive_asset(asset_id: str):
    """Archive an asset: it stays in the library but is never recommended."""
    editing.archive_asset(get_baton(), get_session(), asset_id)
    flash("Archived: it will no longer be recommended.", "ok")
    return redirect(url_for("ui.asset", asset_id=asset_id))


@bp.post("/library/assets/<asset_id>/restore")
@login_required("marketer")
def restore_asset(asset_id: str):
    """Make an archived asset active again."""
    editing.update_asset(get_baton(), get_session(), asset_id, {"status": "active"})
    flash("Restored: it can be recommended again.", "ok")
    return redirect(url_for("ui.asset", asset_id=asset_id))


@bp.route("/library/upload", methods=["GET", "POST"])
@login_required("marketer")
def upload():
    """Upload a file with its metadata; the buying stage is auto-tagged when left empty."""
    baton = get_baton()
    error = None
    if request.method == "POST":
        file = request.files.get("file")
        try:
            if file is None or not file.filename:
                raise ValidationError("file: choose a file to upload")
            metadata = {name: forms.text(name) for name in ("title", "type", "stage", "url",
                                                           "owner")}
            metadata = {k: v for k, v in metadata.items() if v}
            for name in ("personas", "industries", "products"):
                if forms.terms(name):
                    metadata[name] = forms.terms(name)
            for name in ("expires", "review_by"):
                if forms.date_or_none(name):
                    metadata[name] = forms.date_or_none(name).isoformat()
            user = current_user()
            metadata.setdefault("owner", user.email if user else "")
            asset_id = ingest_upload(baton, file.filename, file.read(), metadata)
        except BatonError as exc:
            error = str(exc)
        else:
            flash("Uploaded. Check the buying stage below and confirm or correct it.", "ok")
            return redirect(url_for("ui.asset", asset_id=asset_id))
    return render_template("ui/upload.html", stages=baton.stages,
                           error=error), (422 if error else 200)


@bp.get("/library/review")
@login_required("marketer")
def review():
    """List assets due for review, expired ones, and auto-tags waiting for a check."""
    which = request.args.get("list", "due")
    page, per_page = forms.paging(25)
    results = review_lists(get_session(), which, page, per_page)
    return render_template("ui/review.html", results=results, which=which,
                           stages=get_baton().stages)
