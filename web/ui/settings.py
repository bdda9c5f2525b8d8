"""Admin settings: stage mapping, rules, users, API keys, embedding model, last training run."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for

from recommender.domain import ROLES
from recommender.errors import BatonError, ValidationError
from web.db import get_baton, get_session
from web.services import accounts
from web.services.queries.paging import page_of
from web.services.queries.settings import api_keys_page, last_training_run, users_page
from web.services.ranking import rules as rules_service  # views own rules, delete_rule
from web.ui import forms
from web.ui.auth import current_user, login_required
from web.ui.blueprint import bp


@bp.get("/settings")
@login_required("admin")
def settings():
    """Show the stage mapping, the embedding model in use and the last training run."""
    baton = get_baton()
    run = last_training_run(get_session())
    return render_template("ui/settings.html", stages=baton.stages,
                           model_name=baton.settings.embedding_model, run=run,
                           run_fields=_fields(run))


def _fields(run) -> list[tuple[str, object]]:
    if run is None:
        return []
    fields: list[tuple[str, object]] = [
        ("status", run.status), ("started_at", run.started_at),
        ("finished_at", run.finished_at), ("model_version", run.model_version),
        ("error", run.error)]
    fields.extend(sorted(_flatten(run.figures or {}).items()))
    return [(k, v) for k, v in fields if v not in (None, "", {}, [])]


def _flatten(data: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + "."))
        elif isinstance(value, float):
            out[name] = f"{value:.4g}"
        elif isinstance(value, list):
            out[name] = ", ".join(map(str, value[:10])) + (" …" if len(value) > 10 else "")
        else:
            out[name] = value
    return out


@bp.route("/settings/rules", methods=["GET", "POST"])
@login_required("admin")
def rules():
    """List, add and remove marketer rules."""
    baton, session = get_baton(), get_session()
    error = None
    if request.method == "POST":
        try:
            raw = forms.text("rule", 10000)
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"rule: not valid JSON ({exc.msg} at line {exc.lineno}, "
                                      f"column {exc.colno})") from None
            rules_service.create_rule(baton, session, data, user=current_user().email)
        except BatonError as exc:
            session.rollback()
            error = str(exc)
        else:
            flash("Rule added.", "ok")
            return redirect(url_for("ui.rules"))
    page, per_page = forms.paging(25)
    results = page_of(rules_service.list_rules(baton, session), page, per_page)
    return render_template("ui/rules.html", results=results, error=error,
                           draft=request.form.get("rule", "")), (422 if error else 200)


@bp.post("/settings/rules/<int:rule_id>/delete")
@login_required("admin")
def delete_rule(rule_id: int):
    """Delete a rule."""
    rules_service.delete_rule(get_baton(), get_session(), rule_id)
    flash("Rule deleted.", "ok")
    return redirect(url_for("ui.rules"))


@bp.post("/settings/rules/<int:rule_id>/toggle")
@login_required("admin")
def toggle_rule(rule_id: int):
    """Switch a rule on or off."""
    active = forms.text("active", 5) == "1"
    rules_service.update_rule(get_baton(), get_session(), rule_id, {"active": active})
    flash("Rule switched on." if active else "Rule switched off.", "ok")
    return redirect(url_for("ui.rules"))


@bp.route("/settings/users", methods=["GET", "POST"])
@login_required("admin")
def users():
    """List users and add one."""
    session = get_session()
    error = None
    if request.method == "POST":
        try:
            accounts.create_user(session, forms.text("email", 320), forms.text("role", 12),
                                 request.form.get("password", ""))
        except BatonError as exc:
            session.rollback()
            error = str(exc)
        else:
            flash("User added.", "ok")
            return redirect(url_for("ui.users"))
    page, per_page = forms.paging(25)
    return render_template("ui/users.html", results=users_page(session, page, per_page),
                           roles=ROLES, error=error), (422 if error else 200)


@bp.post("/settings/users/<int:user_id>/active")
@login_required("admin")
def user_active(user_id: int):
    """Activate or deactivate a user."""
    if user_id == current_user().id:
        abort(400, description="you cannot deactivate yourself")
    active = forms.text("active", 5) == "1"
    accounts.set_user_active(get_session(), user_id, active)
    flash("User activated." if active else "User deactivated.", "ok")
    return redirect(url_for("ui.users"))


@bp.route("/settings/api-keys", methods=["GET", "POST"])
@login_required("admin")
def api_keys():
    """List API keys and create one (its key is shown once)."""
    session = get_session()
    new_key, error = None, None
    if request.method == "POST":
        try:
            new_key, _row = accounts.create_api_key(session, forms.text("role", 12),
                                                    label=forms.text("label", 200))
        except BatonError as exc:
            session.rollback()
            error = str(exc)
    page, per_page = forms.paging(25)
    response = render_template("ui/api_keys.html", results=api_keys_page(
        session, page, per_page), roles=ROLES, new_key=new_key, error=error)
    return response, (422 if error else 200), {"Cache-Control": "no-store"}


@bp.post("/settings/api-keys/<int:key_id>/revoke")
@login_required("admin")
def revoke_key(key_id: int):
    """Revoke an API key at once."""
    if not accounts.revoke_api_key(get_session(), key_id):
        abort(404, description=f"unknown API key {key_id}")
    flash("Key revoked.", "ok")
    return redirect(url_for("ui.api_keys"))
