"""The demo builder produces a usable Baton: library, CRM history, a trained model, users."""

from sqlalchemy import func, select

from models import Asset, ContentEvent, Opportunity, User
from web.services import accounts
from web.services.demo import DEMO_USERS, build_demo
from web.services.learning.training import current_model
from web.services.ranking.recommendations import recommend


def test_build_demo_loads_library_history_model_and_users(baton):
    lines: list[str] = []
    build_demo(echo=lines.append, baton=baton, n_opportunities=300, seed=3)
    text = "\n".join(lines)
    assert "failed 0" in text and "rejected rows: 0" in text
    with baton.session() as s:
        assert s.scalar(select(func.count()).select_from(Asset)) >= 80
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 300
        assert s.scalar(select(func.count()).select_from(ContentEvent)) > 1000
        assert s.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
        email, _role, password = DEMO_USERS[0]
        assert accounts.authenticate_user(s, email, password) is not None
        auto = s.scalar(select(func.count()).select_from(Asset).where(Asset.stage_source == "auto"))
        assert auto >= 15  # about a quarter of the sample library carries no stage
        open_id = s.scalar(select(Opportunity.opportunity_id).where(Opportunity.status == "open"))
    assert current_model(baton) is not None
    with baton.session() as s:
        result = recommend(baton, s, open_id, k=3)
    assert len(result.items) == 3 and all(item.reasons for item in result.items)
