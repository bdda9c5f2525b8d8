"""CLI commands of the content library: ``ingest``, ``search``, ``reembed`` and ``tags``."""

from __future__ import annotations

import json
import sys

import click

from web.cli.context import get_baton
from web.services.content import editing
from web.services.content.index import model_name, search_assets
from web.services.content.ingest import ingest_paths
from web.services.content.ingest import reembed as reembed_assets


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--prune", is_flag=True, help="Retire assets whose files are gone.")
def ingest(paths: tuple[str, ...], prune: bool) -> None:
    """Ingest asset files and folders (Markdown, PDF, DOCX, PPTX, HTML, text)."""
    baton = get_baton()
    report = ingest_paths(baton, list(paths), prune=prune, progress=sys.stderr.isatty())
    for path, reason in report.failed:
        click.echo(f"error: {path}: {reason}", err=True)
    click.echo(report.summary())
    if report.tagging:
        acc = report.tagging["cv_accuracy"].get(report.tagging["chosen"])
        shown = f", accuracy {acc:.2f}" if acc is not None else ""
        click.echo(f"stage tagger: {report.tagging['chosen']}{shown} "
                   f"({report.tagging['n_labelled']} labelled assets)")
    if not report.ok:
        sys.exit(1)


@click.command()
@click.argument("query")
@click.option("--stage", help="Buying or pipeline stage.")
@click.option("--type", "type_", help="Asset type, e.g. case_study.")
@click.option("--persona")
@click.option("--industry")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def search(query: str, stage: str | None, type_: str | None, persona: str | None,
           industry: str | None, k: int, as_json: bool) -> None:
    """Search the library by meaning (expired, archived and retired assets excluded)."""
    baton = get_baton()
    with baton.sessions() as session:
        hits = search_assets(baton, session, query, k=k, stage=stage, type=type_,
                             persona=persona, industry=industry)
    if as_json:
        click.echo(json.dumps({"query": query, "hits": [h.to_dict() for h in hits]}, indent=2))
        return
    if not hits:
        click.echo("no matching assets")
        return
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>2}. {hit.score:.3f}  {hit.asset_id}  [{hit.stage}, {hit.type}]")
        click.echo(f"    {hit.title}")
        snippet = " ".join(hit.passage.split())
        if snippet:
            click.echo(f"    \u201c{snippet[:160]}{'...' if len(snippet) > 160 else ''}\u201d")


@click.command()
@click.option("--all", "all_assets", is_flag=True, help="Re-embed every asset, not only stale.")
def reembed(all_assets: bool) -> None:
    """Re-embed assets stored with another embedding model than the configured one."""
    baton = get_baton()
    done = reembed_assets(baton, all_assets=all_assets, progress=sys.stderr.isatty())
    click.echo(f"re-embedded {len(done)} assets with {model_name(baton)}")


@click.group()
def tags() -> None:
    """Review and confirm auto-assigned stage tags."""


@tags.command("review")
@click.option("--threshold", type=click.FloatRange(0, 1),
              help="Confidence below which tags are listed (default BATON_LOW_CONFIDENCE).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
def tags_review(threshold: float | None, as_json: bool) -> None:
    """List auto-tagged assets with a low stage confidence, least sure first."""
    baton = get_baton()
    with baton.sessions() as session:
        items = editing.review_queue(baton, session, threshold)
    if as_json:
        click.echo(json.dumps({"threshold": threshold if threshold is not None
                               else baton.settings.low_confidence,
                               "assets": [i.to_dict() for i in items]}, indent=2))
        return
    if not items:
        click.echo("no low-confidence auto tags")
        return
    for item in items:
        click.echo(f"{item.stage_confidence:.2f}  {item.stage:<13}  {item.asset_id}  "
                   f"({item.type}) {item.title}")


@tags.command("confirm")
@click.argument("asset_id")
@click.option("--stage", help="Correct the stage while confirming.")
def tags_confirm(asset_id: str, stage: str | None) -> None:
    """Confirm an asset's stage tag (optionally correcting it)."""
    baton = get_baton()
    with baton.sessions() as session:
        asset = editing.confirm_stage(baton, session, asset_id, stage)
        click.echo(f"{asset.id}: stage {asset.stage} (confirmed)")


commands = [ingest, search, reembed, tags]
