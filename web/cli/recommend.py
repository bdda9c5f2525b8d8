"""Recommendation commands: ``baton recommend`` and ``baton rules list|add|delete``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import yaml

from recommender.errors import ValidationError
from web.cli.context import get_baton
from web.services.ranking import recommendations
from web.services.ranking.rules import create_rule, delete_rule, list_rules, rule_to_dict


@click.command()
@click.argument("opportunity_id")
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Number of assets.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--explain", is_flag=True,
              help="Rank deterministically by the posterior mean; nothing is logged.")
@click.option("--user", default="", help="Who asks (recorded with the served list).")
def recommend(opportunity_id: str, k: int, as_json: bool, explain: bool, user: str) -> None:
    """Recommend assets for an opportunity, with a score and reasons for each."""
    baton = get_baton()
    with baton.sessions() as session:
        result = recommendations.recommend(baton, session, opportunity_id, k=k, user=user,
                                           mode="explain" if explain else "sample")
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
        return
    rid = result.recommendation_id or "not logged (explain)"
    click.echo(f"{result.opportunity_id} · buying stage {result.buying_stage} · "
               f"recommendation {rid}")
    if result.note:
        click.echo(f"note: {result.note}")
    if not result.items:
        click.echo("no asset is eligible: the library is empty, expired or excluded by rules")
        return
    for item in result.items:
        click.echo(f"{item.rank:>2}. {item.title}  [{item.asset_id}]")
        shown = f" · propensity {item.propensity:.3f}" if result.recommendation_id else ""
        click.echo(f"    {item.type} · {item.stage} · score {item.score:.3f}{shown}")
        for reason in item.reasons:
            click.echo(f"    - {reason}")
        if item.url:
            click.echo(f"    {item.url}")


@click.group("rules")
def rules() -> None:
    """Manage marketer rules (include / boost / exclude content for matching deals)."""


@rules.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
def rules_list(as_json: bool) -> None:
    """List the rules."""
    baton = get_baton()
    with baton.sessions() as session:
        rows = [rule_to_dict(r) for r in list_rules(baton, session)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no rules")
    for row in rows:
        state = "" if row["active"] else " (inactive)"
        weight = f" {row['weight']:+g}" if row["action"] == "boost" else ""
        click.echo(f"{row['id']:>3}  {row['name']}{state}: {row['action']}{weight} "
                   f"{json.dumps(row['target'])} when {json.dumps(row['condition'])}")


def _read_rule(source: str) -> dict:
    if source == "-":
        text = sys.stdin.read()
    elif Path(source).is_file():
        text = Path(source).read_text(encoding="utf-8")
    else:
        text = source
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise ValidationError(f"rule is not valid JSON or YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("a rule must be a JSON/YAML mapping (name, condition, action, "
                              "target, weight)")
    return data


@rules.command("add")
@click.argument("rule")
@click.option("--user", default="", help="Who adds it.")
def rules_add(rule: str, user: str) -> None:
    """Add a rule given as JSON/YAML text, a file path, or - for standard input."""
    baton = get_baton()
    with baton.sessions() as session:
        row = create_rule(baton, session, _read_rule(rule), user=user)
        click.echo(f"added rule {row.id}: {row.name}")


@rules.command("delete")
@click.argument("rule_id")
def rules_delete(rule_id: str) -> None:
    """Delete a rule by id or name."""
    baton = get_baton()
    with baton.sessions() as session:
        delete_rule(baton, session, rule_id)
    click.echo(f"deleted rule {rule_id}")


commands = [recommend, rules]
