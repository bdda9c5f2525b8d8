"""Account commands: ``baton api-key create`` and ``baton user create``."""

from __future__ import annotations

import sys

import click

from recommender.domain import ROLES
from web.cli.context import get_baton
from web.services import accounts


def _read_password(password: str | None, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("give --password or --password-stdin")
    return password


@click.group("api-key")
def api_key() -> None:
    """Manage API keys for CRM integrations."""


@api_key.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--label", default="", help="What the key is for, e.g. 'salesforce sidebar'.")
def api_key_create(role: str, label: str) -> None:
    """Create an API key; the key is printed once, alone on the last line."""
    baton = get_baton()
    with baton.sessions() as session:
        key, row = accounts.create_api_key(session, role, label)
        click.echo(f"created API key {row.id} with role {role}; store it now, it is not kept:",
                   err=True)
    click.echo(key)


@api_key.command("revoke")
@click.argument("key_id", type=int)
def api_key_revoke(key_id: int) -> None:
    """Revoke an API key by its id."""
    baton = get_baton()
    with baton.sessions() as session:
        if not accounts.revoke_api_key(session, key_id):
            raise click.ClickException(f"no API key with id {key_id}")
    click.echo(f"revoked API key {key_id}")


@click.group("user")
def user() -> None:
    """Manage users who sign in to the browser UI."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password", help="The password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(email: str, role: str, password: str | None, password_stdin: bool) -> None:
    """Create a user with a role and a password."""
    password = _read_password(password, password_stdin)
    baton = get_baton()
    with baton.sessions() as session:
        created = accounts.create_user(session, email, role, password)
    click.echo(f"created user {created.email} ({created.role})")


@user.command("set-password")
@click.argument("email")
@click.option("--password", help="The new password (prefer --password-stdin).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_set_password(email: str, password: str | None, password_stdin: bool) -> None:
    """Set a user's password."""
    password = _read_password(password, password_stdin)
    baton = get_baton()
    with baton.sessions() as session:
        changed = accounts.set_password(session, email, password)
    click.echo(f"password set for {changed.email}")


commands = [api_key, user]
