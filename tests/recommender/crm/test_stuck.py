"""StuckDetector: per-stage percentiles, fallbacks, estimator conventions; completed visits."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from sklearn.base import clone

from recommender.crm.stuck import StuckDetector, completed_visits
from recommender.errors import NotFittedError, ValidationError

GROUPS = {"Needs Analysis": "consideration", "Value Proposition": "consideration",
          "Prospecting": "awareness"}


def test_threshold_is_the_percentile_of_the_stage_visits():
    rng = np.random.default_rng(0)
    days = rng.gamma(2.0, 7.0, size=40)
    detector = StuckDetector(percentile=75, min_visits=10).fit(
        [("Needs Analysis", d) for d in days])
    expected = float(np.percentile(days, 75))
    assert detector.thresholds_["Needs Analysis"] == pytest.approx(expected)
    stuck, threshold, basis = detector.assess("Needs Analysis", expected + 0.5)
    assert stuck and threshold == pytest.approx(expected)
    assert basis == "75th percentile of 40 deals that advanced from Needs Analysis"
    assert detector.assess("Needs Analysis", expected - 0.5)[0] is False


def test_percentile_parameter_changes_the_threshold():
    visits = [("Prospecting", float(d)) for d in range(1, 21)]
    low = StuckDetector(percentile=50).fit(visits).threshold("Prospecting")[0]
    high = StuckDetector(percentile=90).fit(visits).threshold("Prospecting")[0]
    assert low == pytest.approx(np.percentile(range(1, 21), 50))
    assert high == pytest.approx(np.percentile(range(1, 21), 90))
    assert StuckDetector(percentile=90).fit(visits).threshold("Prospecting")[1].startswith(
        "90th percentile")


def test_thin_stage_falls_back_to_its_buying_stage_pool_then_fixed_days():
    visits = [("Value Proposition", 10.0 + i) for i in range(12)]
    visits += [("Needs Analysis", 100.0), ("Needs Analysis", 120.0)]
    detector = StuckDetector(min_visits=10, fallback_days=21, stage_groups=GROUPS).fit(visits)
    pooled = np.percentile([v for _, v in visits], 75)
    threshold, basis = detector.threshold("Needs Analysis")
    assert threshold == pytest.approx(pooled)
    assert "14 consideration-stage visits (only 2 for Needs Analysis)" in basis
    threshold, basis = detector.threshold("Prospecting")
    assert threshold == 21.0 and basis.startswith("default of 21 days")


def test_sklearn_conventions_and_errors():
    detector = StuckDetector(percentile=80, min_visits=3)
    assert detector.get_params()["percentile"] == 80
    assert clone(detector).get_params() == detector.get_params()
    assert not hasattr(detector, "thresholds_")
    with pytest.raises(NotFittedError):
        detector.assess("Prospecting", 3)
    assert detector.fit([("Prospecting", 1.0)]) is detector
    with pytest.raises(ValidationError, match="percentile"):
        StuckDetector(percentile=0).fit([])
    with pytest.raises(ValidationError, match="invalid duration"):
        StuckDetector().fit([("Prospecting", -1.0)])


ORDER = {"Prospecting": (0, None), "Qualification": (1, None), "Needs Analysis": (2, None),
         "Closed Won": (8, "won"), "Closed Lost": (9, "lost")}


def test_completed_visits_count_only_advancing_exits():
    t0 = datetime(2026, 1, 1)
    day = timedelta(days=1)
    advancing = (t0, [("Prospecting", "Qualification", t0 + 4 * day),
                      ("Qualification", "Needs Analysis", t0 + 10 * day),
                      ("Needs Analysis", "Qualification", t0 + 13 * day),  # moved back
                      ("Qualification", "Closed Won", t0 + 15 * day)])
    lost = (t0, [(None, "Prospecting", t0), ("Prospecting", "Closed Lost", t0 + 9 * day)])
    no_created = (None, [("Prospecting", "Qualification", t0 + 2 * day),
                         ("Qualification", "Unknown", t0 + 3 * day)])
    visits = completed_visits([advancing, lost, no_created], ORDER.get)
    assert visits == [("Prospecting", 4.0), ("Qualification", 6.0), ("Qualification", 2.0)]
