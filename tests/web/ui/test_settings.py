"""Admin settings: stage mapping, model, rules, users, API keys shown once."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from models import ApiKey, User
from models.rules import Rule
from tests.support.ui import post_form, sign_in
from web.services.accounts import verify_api_key


def test_settings_shows_stage_mapping_and_embedding_model(client, users):
    sign_in(client, "admin")
    body = client.get("/settings").get_data(as_text=True)
    assert "<code>baton-hashing</code>" in body
    assert re.search(r"Proposal/Price Quote</td><td>decision</td>", body)
    assert re.search(r"Contract Sent <code class=\"small\">contractsent</code></td>"
                     r"<td>decision</td>", body)
    assert "No model trained yet" in body


def test_api_key_is_shown_once_and_works(client, users, baton):
    sign_in(client, "admin")
    response = post_form(client, "/settings/api-keys", "/settings/api-keys",
                         {"role": "rep", "label": "Salesforce"})
    body = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    key = re.search(r'id="new-key" readonly value="([^"]+)"', body).group(1)
    with baton.session() as session:
        assert verify_api_key(session, key).role == "rep"
    again = client.get("/settings/api-keys").get_data(as_text=True)
    assert key not in again and "Salesforce" in again


def test_revoke_api_key(client, users, baton):
    sign_in(client, "admin")
    post_form(client, "/settings/api-keys", "/settings/api-keys", {"role": "marketer"})
    with baton.session() as session:
        key_id = session.scalar(select(ApiKey.id))
    post_form(client, "/settings/api-keys", f"/settings/api-keys/{key_id}/revoke", {})
    with baton.session() as session:
        assert session.get(ApiKey, key_id).revoked_at is not None
    bad = post_form(client, "/settings/api-keys", "/settings/api-keys", {"role": "boss"})
    assert bad.status_code == 422 and "unknown role" in bad.get_data(as_text=True)


def test_admin_adds_and_deactivates_a_user(client, users, baton):
    sign_in(client, "admin")
    response = post_form(client, "/settings/users", "/settings/users",
                         {"email": "new@example.com", "role": "marketer",
                          "password": "long-enough-pw"})
    assert response.status_code == 302
    with baton.session() as session:
        user = session.scalar(select(User).where(User.email == "new@example.com"))
        assert user.role == "marketer" and user.active
        user_id = user.id
    post_form(client, "/settings/users", f"/settings/users/{user_id}/active", {"active": "0"})
    with baton.session() as session:
        assert not session.get(User, user_id).active
    short = post_form(client, "/settings/users", "/settings/users",
                      {"email": "x@example.com", "role": "rep", "password": "short"})
    assert short.status_code == 422 and "at least 8" in short.get_data(as_text=True)


def test_rules_add_toggle_delete_and_errors(client, users, baton):
    sign_in(client, "admin")
    assert "No rules" in client.get("/settings/rules").get_data(as_text=True)
    rule = {"name": "Security for decision", "action": "include",
            "condition": {"all": [{"field": "buying_stage", "op": "eq", "value": "decision"}]},
            "target": {"type": "security_review"}}
    response = post_form(client, "/settings/rules", "/settings/rules",
                         {"rule": json.dumps(rule)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with baton.session() as session:
        stored = session.scalar(select(Rule))
        assert stored.name == "Security for decision" and stored.active
        rule_id = stored.id
    post_form(client, "/settings/rules", f"/settings/rules/{rule_id}/toggle", {"active": "0"})
    with baton.session() as session:
        assert not session.get(Rule, rule_id).active
    bad = post_form(client, "/settings/rules", "/settings/rules", {"rule": "{not json"})
    assert bad.status_code == 422 and "not valid JSON" in bad.get_data(as_text=True)
    post_form(client, "/settings/rules", f"/settings/rules/{rule_id}/delete", {})
    with baton.session() as session:
        assert session.get(Rule, rule_id) is None


def test_settings_shows_the_last_training_run_and_its_figures(client, users, baton):
    from datetime import datetime

    from models.learning import TrainingRun

    with baton.session() as session:
        session.add(TrainingRun(status="failed", started_at=datetime(2026, 1, 1),
                                figures={}, error="disk full in January"))
        session.add(TrainingRun(status="succeeded", started_at=datetime(2026, 11, 1, 9),
                                finished_at=datetime(2026, 11, 1, 9, 5), model_version="v7",
                                figures={"episodes": 1200, "holdout": {"auc": 0.6123456}}))
    sign_in(client, "admin")
    body = client.get("/settings").get_data(as_text=True)
    assert "No model trained yet" not in body
    assert "succeeded" in body and "v7" in body and "disk full" not in body
    assert "<dt>holdout.auc</dt><dd>0.6123</dd>" in body
    assert 'datetime="2026-11-01T09:05:00Z"' in body
