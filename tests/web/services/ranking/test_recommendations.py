"""The recommend service: ranking on a real database, logging, rules, closed deals, errors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import func, select, update

from models import Asset, ContentEvent
from models.recommendations import RecommendationLog, RecommendedItem
from recommender.errors import NotFoundError, ValidationError
from tests.support.recommend_data import add_assets, add_opportunity, add_shared, add_stage_change
from web.runtime import Baton
from web.services.content import editing, index
from web.services.events import record_events
from web.services.ranking import recommendations
from web.services.ranking.recommendations import recommend
from web.services.ranking.rules import create_rule
from web.services.sharing import create_share_link, resolve_share_link


@pytest.fixture
def library(baton, embedder):
    with baton.session() as session:
        add_assets(session, embedder, expired=("old-datasheet",), archived=("impl-plan",))
    return baton


def test_recommend_logs_the_list_with_propensities_and_events(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session, notes="customer raised a pricing objection on contract terms")
        result = recommend(baton, session, "opp-1", k=4, user="ana", seed=11)
    assert len(result.items) == 4
    assert result.recommendation_id and all(
        i.recommendation_id == result.recommendation_id for i in result.items)
    with baton.session() as session:
        log = session.get(RecommendationLog, result.recommendation_id)
        assert log.seed == 11 and log.user == "ana" and log.buying_stage == "decision"
        assert log.policy_version == result.policy_version and "eps=0.1" in log.policy_version
        items = session.scalars(select(RecommendedItem).where(
            RecommendedItem.recommendation_id == result.recommendation_id)
            .order_by(RecommendedItem.rank)).all()
        assert [i.asset_id for i in items] == [i.asset_id for i in result.items]
        events = session.scalars(select(ContentEvent).where(
            ContentEvent.recommendation_id == result.recommendation_id)).all()
        assert {e.event_type for e in events} == {"recommended"}
        assert sorted(e.asset_id for e in events) == sorted(i.asset_id for i in result.items)
        for event in events:
            assert 0 < event.propensity <= 1
    for item in result.items:
        assert item.title and item.url and item.reasons


def test_never_recommends_expired_or_archived_assets(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session)
        seen = set()
        for seed in range(25):
            seen |= {i.asset_id for i in recommend(baton, session, "opp-1", k=7, seed=seed).items}
    assert "old-datasheet" not in seen and "impl-plan" not in seen
    assert len(seen) == 7  # every eligible asset gets shown at some point (exploration)


def test_explain_mode_is_deterministic_fits_stage_and_logs_nothing(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session, notes="pricing objection: discounts and contract terms")
        first = recommend(baton, session, "opp-1", k=3, mode="explain")
        second = recommend(baton, session, "opp-1", k=3, mode="explain")
        logged = session.scalar(select(func.count()).select_from(RecommendationLog))
    assert [i.asset_id for i in first.items] == [i.asset_id for i in second.items]
    assert first.recommendation_id is None and logged == 0
    top = first.items[0]
    assert top.asset_id == "pricing"
    assert "fits the decision stage" in top.reasons
    assert any(r.startswith("matches the deal notes: '") for r in top.reasons)
    assert "pricing" in top.passage.lower()


def test_already_shared_asset_is_demoted_with_its_date(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session, notes="pricing objection: discounts and contract terms")
        before = recommend(baton, session, "opp-1", k=6, mode="explain")
        add_shared(session, "opp-1", "pricing", datetime(2026, 10, 3, 9, 30))
        after = recommend(baton, session, "opp-1", k=6, mode="explain")
    rank_before = [i.asset_id for i in before.items].index("pricing")
    items_after = {i.asset_id: i for i in after.items}
    assert "pricing" not in items_after or (
        [i.asset_id for i in after.items].index("pricing") > rank_before)
    if "pricing" in items_after:
        assert "already shared on 2026-10-03" in items_after["pricing"].reasons


def test_rules_include_boost_and_exclude_show_in_reasons(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session, industry="logistics", amount=90000)
        create_rule(baton, session, {
            "name": "big logistics deals get the awareness blog",
            "condition": {"industry": "logistics", "amount": {"gte": 50000}},
            "action": "include", "target": {"asset_id": "blog-trends"}})
        create_rule(baton, session, {
            "name": "never show security", "condition": [],
            "action": "exclude", "target": {"type": "security_review"}})
        create_rule(baton, session, {
            "name": "retail only", "condition": {"industry": "retail"},
            "action": "include", "target": {"asset_id": "cs-acme"}})
        for seed in range(10):
            result = recommend(baton, session, "opp-1", k=3, seed=seed)
            ids = [i.asset_id for i in result.items]
            assert ids[0] == "blog-trends" and "security" not in ids
            assert "rule: big logistics deals get the awareness blog" in result.items[0].reasons
            assert result.items[0].propensity == 1.0
            assert "cs-acme" not in ids or "rule: retail only" not in result.items[
                ids.index("cs-acme")].reasons


def test_closed_deal_gets_its_last_open_stage_with_a_note(library):
    baton = library
    with baton.session() as session:
        add_opportunity(session, stage="Closed Lost", buying_stage=None, status="lost")
        add_stage_change(session, "opp-1", "Needs Analysis", "Closed Lost",
                         datetime(2026, 3, 1))
        result = recommend(baton, session, "opp-1", k=2)
    assert result.buying_stage == "consideration"
    assert "closed (lost)" in result.note and "consideration" in result.note


def test_unknown_opportunity_and_bad_k_are_clear_errors(library):
    with library.session() as session:
        add_opportunity(session)
        with pytest.raises(NotFoundError, match="unknown opportunity 'nope'"):
            recommend(library, session, "nope")
        with pytest.raises(ValidationError, match="k must be"):
            recommend(library, session, "opp-1", k=0)


def test_empty_library_answers_an_empty_list(baton):
    with baton.session() as session:
        add_opportunity(session)
        result = recommend(baton, session, "opp-1", k=5)
    assert result.items == [] and result.candidate_count == 0


def test_learned_effects_change_the_ranking(library, monkeypatch):
    """A model that knows the ROI calculator helps puts it first, with the effect in reasons."""

    class Model:
        version = "test-model"

        def posterior(self, asset_ids, buying_stage, context=None, asset_types=None):
            mean = np.array([0.12 if a == "roi" else 0.0 for a in asset_ids])
            return mean, np.full(len(asset_ids), 0.02)

    monkeypatch.setattr(recommendations, "_effect_model", lambda baton: Model())
    with library.session() as session:
        add_opportunity(session, stage="Needs Analysis", buying_stage="consideration")
        result = recommend(library, session, "opp-1", k=3, mode="explain")
    top = result.items[0]
    assert top.asset_id == "roi"
    assert any("+12 pts chance to advance (90% CI +9 to +15)" in r for r in top.reasons)
    assert "effects=test-model" in result.policy_version


def test_serve_log_share_and_replay_on_each_database(any_db_baton, embedder):
    """The whole path (rules, serve, log with a 63-bit seed, share, view, replay) on SQLite and
    PostgreSQL."""
    runtime = any_db_baton
    with runtime.session() as session:
        add_assets(session, embedder)
        add_opportunity(session, notes="pricing objection")
        create_rule(runtime, session, {
            "name": "cfo pricing", "condition": {"persona": "cfo"}, "action": "boost",
            "target": {"type": "pricing_sheet"}, "weight": 1.0})
        result = recommend(runtime, session, "opp-1", k=3, seed=2**63 - 1)
        link = create_share_link(runtime, session, "opp-1", result.items[0].asset_id)
        resolve_share_link(runtime, session, link.token)
        event = {"event_id": "h1", "opportunity_id": "opp-1",
                 "asset_id": result.items[0].asset_id, "event_type": "helpful"}
        assert record_events(runtime, session, [event]).created == ["h1"]
        assert record_events(runtime, session, [event]).duplicates == ["h1"]
        log = session.get(RecommendationLog, result.recommendation_id)
        assert log.seed == 2**63 - 1
        kinds = sorted(session.scalars(select(ContentEvent.event_type)))
    assert kinds.count("recommended") == 3
    assert kinds.count("shared") == kinds.count("viewed") == kinds.count("helpful") == 1



def test_library_changes_in_this_process_are_seen_at_once(library, embedder):
    with library.session() as session:
        add_opportunity(session)
        first = recommend(library, session, "opp-1", k=8, mode="explain")
        assert "pricing" in [i.asset_id for i in first.items]
        session.execute(update(Asset).where(Asset.id == "pricing").values(status="archived"))
        session.commit()
        second = recommend(library, session, "opp-1", k=8, mode="explain")
        assert "pricing" not in [i.asset_id for i in second.items]
        assert second.candidate_count == first.candidate_count - 1


def test_asset_marked_not_helpful_is_demoted_with_its_date(library):
    with library.session() as session:
        add_opportunity(session, notes="pricing objection: discounts and contract terms")
        before = recommend(library, session, "opp-1", k=3, mode="explain")
        assert before.items[0].asset_id == "pricing"
        record_events(library, session, {"event_id": "nh", "opportunity_id": "opp-1",
                                         "asset_id": "pricing", "event_type": "not_helpful",
                                         "occurred_at": "2026-11-02T10:00:00"})
        after = recommend(library, session, "opp-1", k=8, mode="explain")
    ids = [i.asset_id for i in after.items]
    assert ids.index("pricing") > 0
    assert "marked not helpful on 2026-11-02" in after.items[ids.index("pricing")].reasons


def test_concurrent_requests_share_the_caches_safely(library):
    with library.session() as session:
        for i in range(4):
            add_opportunity(session, opportunity_id=f"opp-{i}", notes=f"deal {i} pricing terms")

    def serve(i: int) -> int:
        with library.session() as session:
            return len(recommend(library, session, f"opp-{i % 4}", k=3).items)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(serve, range(16))) == [3] * 16
    with library.session() as session:
        assert session.scalar(select(func.count()).select_from(RecommendationLog)) == 16


def test_library_writes_through_a_service_are_seen_at_once_others_within_refresh(
        library, settings, monkeypatch):
    """One cache rule: a service write invalidates every reader of this process at once; any
    other change is picked up by the fingerprint, re-checked every ``REFRESH_SECONDS``."""
    other = Baton(settings, embedder=library.embedder)  # a second runtime on the same database
    try:
        with library.session() as session, other.session() as other_session:
            add_opportunity(session)
            first = index.get_library_arrays(library, session)
            theirs = index.get_library_arrays(other, other_session)
            assert first.recommendable[first.position["pricing"]]
            editing.archive_asset(library, session, "pricing")
            for runtime, s in ((library, session), (other, other_session)):
                arrays = index.get_library_arrays(runtime, s)
                assert arrays is not first and arrays is not theirs
                assert not arrays.recommendable[arrays.position["pricing"]]
            items = recommend(library, session, "opp-1", k=8, mode="explain").items
            assert "pricing" not in [i.asset_id for i in items]

            monkeypatch.setattr(index, "REFRESH_SECONDS", 3600.0)
            cached = index.get_library_arrays(library, session)
            session.execute(update(Asset).where(Asset.id == "roi").values(status="archived"))
            session.commit()  # not through a service: the cache holds until the next check
            assert index.get_library_arrays(library, session) is cached
            monkeypatch.setattr(index, "REFRESH_SECONDS", 0.0)
            arrays = index.get_library_arrays(library, session)
            assert arrays is not cached and not arrays.recommendable[arrays.position["roi"]]
    finally:
        other.close()
