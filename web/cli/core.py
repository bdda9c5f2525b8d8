"""Core commands: ``init``, ``serve`` and ``demo``."""

from __future__ import annotations

import click

from web.cli.context import get_baton


@click.command()
def init() -> None:
    """Create the database or upgrade it to the newest schema."""
    baton = get_baton()
    click.echo(f"database ready: {baton.engine.url.render_as_string(hide_password=True)}")


def run_server(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (production WSGI server), in the foreground."""
    from gunicorn.app.base import BaseApplication

    from web import create_app

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self):
            from threadpoolctl import threadpool_limits

            # One BLAS thread per worker: workers x threads already fill the cores, and
            # multithreaded BLAS under concurrent requests made ranking ~3x slower.
            threadpool_limits(1)
            return create_app()

    _Server().run()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the UI, API and sidebar on a production WSGI server (gunicorn)."""
    get_baton()  # fail early on bad settings, upgrade the schema once
    click.echo(f"Baton serving on http://{host}:{port}")
    run_server(host, port, workers, threads)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo database, then exit.")
@click.option("--seed", default=7, show_default=True, type=int)
def demo(host: str, port: int, no_serve: bool, seed: int) -> None:
    """Build a fresh demo database from content_library/ and a demo CRM history, then serve it."""
    from web.services.demo import build_demo

    build_demo(echo=click.echo, seed=seed)
    if not no_serve:
        click.echo(f"Baton demo on http://{host}:{port}  (Ctrl+C to stop)")
        run_server(host, port, workers=2, threads=4)


commands = [init, serve, demo]
