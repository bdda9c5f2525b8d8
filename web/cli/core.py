"""Core commands: ``init``, ``serve`` and ``demo``."""

from __future__ import annotations

import click
from gunicorn.app.base import BaseApplication
from threadpoolctl import threadpool_limits

from web import create_app
from web.cli.context import get_baton
from web.services.content.index import get_library_arrays
from web.services.demo import build_demo
from web.services.learning.training import current_model


@click.command()
def init() -> None:
    """Create the database or upgrade it to the newest schema."""
    baton = get_baton()
    click.echo(f"database ready: {baton.engine.url.render_as_string(hide_password=True)}")


def warm_up(app) -> None:
    """Build the cached library arrays and load the trained model before the first request."""
    baton = app.extensions["baton"]
    try:
        with baton.sessions() as session:
            get_library_arrays(baton, session)
        current_model(baton)
    except Exception as exc:  # the first request will retry and report properly
        app.logger.warning("warm-up skipped: %s", exc)


def run_server(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the app with gunicorn (production WSGI server), in the foreground."""
    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            # Generous: a worker warms the library arrays before serving (about a minute at
            # 100k assets on 2 cores), and must not be killed for it.
            self.cfg.set("timeout", 300)
            self.cfg.set("accesslog", None)

        def load(self):
            # One BLAS thread per worker: workers x threads already fill the cores, and
            # multithreaded BLAS under concurrent requests made ranking ~3x slower.
            threadpool_limits(1)
            app = create_app()
            warm_up(app)
            return app

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
    build_demo(echo=click.echo, seed=seed)
    if not no_serve:
        click.echo(f"Baton demo on http://{host}:{port}  (Ctrl+C to stop)")
        run_server(host, port, workers=2, threads=4)


commands = [init, serve, demo]
