"""Sign-in, sign-out, CSRF and roles in the browser UI (real app, test client)."""

from __future__ import annotations

import pytest

from tests.support.ui import EMAILS, PASSWORD, csrf_from, post_form, sign_in
from web.services.accounts import set_user_active


def test_anonymous_is_sent_to_sign_in_with_next(client, users):
    response = client.get("/library?stage=decision")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "stage%3Ddecision" in response.headers["Location"] or "stage=decision" in \
        response.headers["Location"]


def test_sign_in_sets_a_httponly_samesite_cookie_and_lands_on_role_home(client, users):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": EMAILS["rep"], "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/deals"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/deals").status_code == 200


def test_wrong_password_is_refused_with_a_message(client, users):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": EMAILS["rep"], "password": "nope-nope",
                                           "csrf_token": token})
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.get_data(as_text=True)
    assert client.get("/deals").status_code == 302


def test_post_without_csrf_token_is_rejected(client, users):
    response = client.post("/login", data={"email": EMAILS["rep"], "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    sign_in(client, "rep")
    response = client.post("/logout")
    assert response.status_code == 400
    assert client.get("/deals").status_code == 200  # still signed in


def test_logout_is_a_post_and_ends_the_session(client, users):
    sign_in(client, "rep")
    assert client.get("/logout").status_code == 405
    response = post_form(client, "/deals", "/logout", {})
    assert response.status_code == 302
    assert client.get("/deals").status_code == 302


def test_next_only_redirects_inside_the_site(client, users):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/x",
                           data={"email": EMAILS["rep"], "password": PASSWORD,
                                 "csrf_token": token})
    assert response.headers["Location"] == "/deals"


@pytest.mark.parametrize("path", ["/analytics", "/analytics/gaps", "/analytics/funnel",
                                  "/analytics/feedback", "/library/upload", "/library/review",
                                  "/library/assets/roi/edit", "/settings"])
def test_rep_gets_a_friendly_403_on_marketer_pages(client, data, path):
    sign_in(client, "rep")
    response = client.get(path)
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Not for your role" in body and "signed in as a rep" in body


@pytest.mark.parametrize("path", ["/settings", "/settings/users", "/settings/api-keys",
                                  "/settings/rules"])
def test_marketer_is_refused_admin_pages_and_admin_is_not(client, data, path):
    sign_in(client, "marketer")
    assert client.get(path).status_code == 403
    post_form(client, "/deals", "/logout", {})
    sign_in(client, "admin")
    assert client.get(path).status_code == 200


def test_navigation_shows_only_what_the_role_may_open(client, data):
    sign_in(client, "rep")
    body = client.get("/deals").get_data(as_text=True)
    assert 'href="/library"' in body and 'href="/analytics"' not in body
    post_form(client, "/deals", "/logout", {})
    sign_in(client, "marketer")
    body = client.get("/deals").get_data(as_text=True)
    assert 'href="/analytics"' in body and 'href="/settings"' not in body


def test_a_deactivated_user_is_signed_out(client, data, baton):
    sign_in(client, "rep")
    with baton.session() as session:
        from sqlalchemy import select

        from models import User

        user = session.scalar(select(User).where(User.email == EMAILS["rep"]))
        set_user_active(session, user.id, False)
    assert client.get("/deals").status_code == 302
