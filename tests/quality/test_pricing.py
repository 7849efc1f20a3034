"""Phase 3 ground work on generated trade histories: train on the older trades, validate on the newest, keep the
model in shadow mode, and promote it only with enough data and when it beats the baseline."""

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from icc_app.core.db import unit_of_work
from icc_app.core.errors import ValidationFailed
from icc_app.exchange.models import Lot, LotStatus, Offer, OfferParty, OfferStatus, Order, OrderStatus
from icc_app.identity import service as identity
from icc_app.labs.models import CoaDocument
from icc_app.quality import pricing, service
from icc_app.quality.models import CQIScore, ModelStatus
from tests.factories import make_business, make_user


def _history(session, n: int, *, seed: int = 11) -> None:
    """n trades over a year whose price follows THC, terpenes and safety (plus noise), like a real market."""
    rng = random.Random(seed)
    seller = make_business(session, owner=make_user(session), name=f"Gen Farms {seed}")
    buyer = make_business(session, owner=make_user(session), name=f"Gen Shop {seed}")
    start = datetime(2025, 11, 1, tzinfo=UTC)
    for i in range(n):
        thc, terps = rng.uniform(14, 32), rng.uniform(0.3, 4.0)
        passed = rng.random() > 0.08
        price = 600 * (1 + (thc - 14) / 18) * (1 + terps / 4) * (1.0 if passed else 0.45) * rng.uniform(0.93, 1.07)
        when = start + timedelta(hours=i * 8760 / n)
        coa = CoaDocument(business_id=seller.id, filename=f"g{i}.pdf", storage_key=f"coas/g{i}", sha256=uuid.uuid4().hex,
                          size_bytes=1, status="parsed", total_thc_pct=thc, total_cbd_pct=0.1, total_terpenes_pct=terps,
                          date_tested=(when - timedelta(days=rng.randint(5, 60))).date(),
                          pesticides_status="pass" if passed else "fail", heavy_metals_status="pass",
                          microbials_status="pass", mycotoxins_status="pass")
        session.add(coa)
        session.flush()
        lot = Lot(business_id=seller.id, title=f"gen {i}", product_type="flower", strain_name="Gen",
                  strain_type="hybrid", quantity=Decimal(10), available_qty=Decimal(0), min_order_qty=Decimal(1),
                  unit="lb", price_per_unit=Decimal(round(price, 2)), status=LotStatus.sold_out, coa_id=coa.id)
        session.add(lot)
        session.flush()
        offer = Offer(lot_id=lot.id, seller_business_id=seller.id, buyer_business_id=buyer.id, status=OfferStatus.accepted,
                      awaiting=OfferParty.seller, quantity=Decimal(10), price_per_unit=Decimal(round(price, 2)),
                      expires_at=when + timedelta(days=1))
        session.add(offer)
        session.flush()
        session.add(Order(lot_id=lot.id, offer_id=offer.id, seller_business_id=seller.id, buyer_business_id=buyer.id,
                          quantity=Decimal(10), unit="lb", price_per_unit=Decimal(round(price, 2)),
                          total=Decimal(round(price * 10, 2)), status=OrderStatus.received, created_at=when))
    session.flush()


def test_a_model_trained_on_enough_trades_beats_the_baseline_and_can_be_promoted(connection):
    with unit_of_work() as session:
        _history(session, 320)
        model = pricing.train(session)
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
    metrics = model.metrics
    total = metrics["n_train"] + metrics["n_val"]
    assert total >= 320 and metrics["n_val"] == total - int(total * 0.8)  # the newest 20% validate
    assert datetime.fromisoformat(metrics["split_at"]) > datetime(2026, 8, 1, tzinfo=UTC)
    assert metrics["mae"] < metrics["baseline_mae"]  # THC and terpenes explain the price: it beats the median
    assert ModelStatus(model.status) == ModelStatus.shadow
    with unit_of_work() as session:
        promoted = pricing.promote(session, admin=admin, model_id=model.id)
    assert ModelStatus(promoted.status) == ModelStatus.promoted


def test_too_few_trades_cannot_be_promoted(connection):
    with unit_of_work() as session:
        _history(session, 60, seed=3)
        model = pricing.train(session)
        admin = identity.build_principal(session, make_user(session, is_platform_admin=True))
    with pytest.raises(ValidationFailed, match="needs at least 200"), unit_of_work() as session:
        pricing.promote(session, admin=admin, model_id=model.id)
    with pytest.raises(ValidationFailed, match=r"Only \d+ trades so far"), unit_of_work() as session:
        pricing.train(session, min_trades=10_000)  # and a minimum to train at all


def test_the_model_scores_in_shadow_beside_the_rules(market):
    with unit_of_work() as session:
        _history(session, 120, seed=5)
        pricing.train(session)
    with unit_of_work() as session:
        rules = service.score_lot(session, market.lot_id)
        shadow = service.model_score(session, market.lot_id)
        rows = session.exec(select(CQIScore.scorer).where(CQIScore.lot_id == market.lot_id,
                                                          CQIScore.is_current == True)).all()  # noqa: E712
    assert rules.total is not None and shadow is not None and shadow.scorer == "model:v1"
    assert sorted(rows) == ["model:v1", "rules"]
    assert shadow.components[0]["inputs"].startswith("$") and 0 <= shadow.total <= 100
    assert math.isfinite(shadow.total)
