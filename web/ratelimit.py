"""Brute-force brake: an in-process sliding-window count of failed sign-ins and API keys.

After ``RATELIMIT_FAILURES`` failures (default 10) from one client address within
``RATELIMIT_WINDOW_S`` seconds (default 300), further attempts from it get 429 until the oldest
failure leaves the window. Counts are per process (each gunicorn worker keeps its own), which
bounds an attacker to ``workers x failures`` guesses per window; successes are never counted.
``RATELIMIT_ENABLED`` (app config) turns it off; it is off by default only under ``testing``.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from flask import current_app, request

_MAX_KEYS = 10_000  # bounded memory: the oldest client is forgotten first
_CREATE = threading.Lock()


class _State:
    """One app's failure times by (scope, client), under a lock (threaded workers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failures: dict[tuple[str, str], deque[float]] = {}


def _state() -> _State:
    extensions = current_app.extensions
    if "baton_ratelimit" not in extensions:
        with _CREATE:
            extensions.setdefault("baton_ratelimit", _State())
    return extensions["baton_ratelimit"]


def _limits() -> tuple[int, float]:
    """Return (failures allowed, window seconds); no limit when ``RATELIMIT_ENABLED`` is off
    (its default under ``testing``, so suites that try many bad keys are not throttled)."""
    config = current_app.config
    if not config.get("RATELIMIT_ENABLED", not current_app.testing):
        return 1 << 30, 1.0
    return int(config.get("RATELIMIT_FAILURES", 10)), float(config.get("RATELIMIT_WINDOW_S", 300))


def client_key() -> str:
    """Return who is trying: the remote address of this request."""
    return request.remote_addr or "unknown"


def _recent(state: _State, scope: str, who: str, now: float, window: float) -> deque[float]:
    times = state.failures.get((scope, who))
    if times is None:
        return deque()
    while times and times[0] <= now - window:
        times.popleft()
    return times


def retry_after(scope: str, who: str | None = None) -> int:
    """Return the seconds until ``who`` may try ``scope`` again (0 when not limited)."""
    who = who or client_key()
    limit, window = _limits()
    now = time.monotonic()
    state = _state()
    with state.lock:
        times = _recent(state, scope, who, now, window)
        if len(times) < limit:
            return 0
        return max(1, int(times[-limit] + window - now) + 1)


def record_failure(scope: str, who: str | None = None) -> None:
    """Count one failed attempt by ``who`` (default: this request's client) at ``scope``."""
    who = who or client_key()
    limit, window = _limits()
    now = time.monotonic()
    state = _state()
    with state.lock:
        if (scope, who) not in state.failures and len(state.failures) >= _MAX_KEYS:
            state.failures.pop(next(iter(state.failures)))
        times = state.failures.setdefault((scope, who), deque(maxlen=max(limit, 1)))
        _recent(state, scope, who, now, window)
        times.append(now)


def reset() -> None:
    """Forget every count of this app (tests)."""
    state = _state()
    with state.lock:
        state.failures.clear()
