"""Phase 3 ground work: a model of the clearing price per unit of accepted offers, learned from lot features
(the parsed COA, product type, age, seller record) with LightGBM.

Training uses a time-based split (the latest 20% of trades validate), stores its metrics and the booster in a
model registry, and a model scores lots in shadow mode beside the rules. It can be promoted only when it has
enough trades (the config's `model_min_samples`, default 200) and beats the baseline (the median price of the
product type and unit in the training window) on the validation split."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
from sqlmodel import Session, col, func, select

from icc_app.core import audit
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.exchange.models import Lot, Order, OrderStatus, ProductType, Unit
from icc_app.identity.permissions import require_platform_admin
from icc_app.identity.schemas import Principal
from icc_app.labs.models import CoaDocument
from icc_app.quality import transitions
from icc_app.quality.models import CQIScore, ModelStatus, PriceModel

FEATURES = ["thc_pct", "cbd_pct", "terpenes_pct", "safety", "water_activity", "age_days", "product_type", "unit",
            "seller_completed"]
PRODUCT_CODES = {p.value: i for i, p in enumerate(ProductType)}
UNIT_CODES = {u.value: i for i, u in enumerate(Unit)}
DEFAULT_MIN_SAMPLES = 200
VALIDATION_SHARE = 0.2


def _safety(coa: CoaDocument) -> float:
    statuses = [(getattr(coa, f"{p}_status") or "").lower() for p in
                ("pesticides", "heavy_metals", "microbials", "mycotoxins")]
    return -1.0 if "fail" in statuses else 1.0 if all(s == "pass" for s in statuses) else 0.0


def _row(lot: Lot, coa: CoaDocument | None, at: date, seller_completed: int) -> list[float]:
    nan = float("nan")
    tested = coa.date_tested if coa else None
    return [coa.total_thc_pct if coa and coa.total_thc_pct is not None else nan,
            coa.total_cbd_pct if coa and coa.total_cbd_pct is not None else nan,
            coa.total_terpenes_pct if coa and coa.total_terpenes_pct is not None else nan,
            _safety(coa) if coa else 0.0,
            coa.water_activity_aw if coa and coa.water_activity_aw is not None else nan,
            float((at - tested).days) if tested else nan,
            float(PRODUCT_CODES.get(str(lot.product_type), -1)), float(UNIT_CODES.get(str(lot.unit), -1)),
            float(seller_completed)]


@dataclass
class TradeSet:
    x: np.ndarray
    y: np.ndarray  # log price per unit
    groups: list[tuple[str, str]]  # (product type, unit) per trade
    split: int  # index of the first validation trade
    split_at: datetime | None


def trades(session: Session) -> TradeSet:
    """Every accepted offer (an order that was not cancelled), oldest first, with its lot's features then."""
    rows = session.exec(select(Order, Lot, CoaDocument).join(Lot, col(Lot.id) == Order.lot_id)
                        .join(CoaDocument, col(CoaDocument.id) == Lot.coa_id, isouter=True)
                        .where(Order.status != OrderStatus.cancelled).order_by(col(Order.created_at))).all()
    completed: dict[uuid.UUID, int] = {}
    x, y, groups = [], [], []
    for order, lot, coa in rows:
        x.append(_row(lot, coa, order.created_at.date(), completed.get(order.seller_business_id, 0)))
        y.append(math.log(float(order.price_per_unit)))
        groups.append((str(lot.product_type), str(order.unit)))
        if OrderStatus(order.status) == OrderStatus.received:
            completed[order.seller_business_id] = completed.get(order.seller_business_id, 0) + 1
    split = int(len(rows) * (1 - VALIDATION_SHARE))
    return TradeSet(np.array(x, dtype=float).reshape(-1, len(FEATURES)), np.array(y), groups, split,
                    rows[split][0].created_at if rows and split < len(rows) else None)


def _baseline_mae(data: TradeSet) -> float:
    """The naive price: the median of the same product type and unit in the training window."""
    train_prices: dict[tuple[str, str], list[float]] = {}
    for g, v in zip(data.groups[:data.split], data.y[:data.split], strict=True):
        train_prices.setdefault(g, []).append(v)
    overall = float(np.median(data.y[:data.split]))
    errors = [abs(math.exp(float(np.median(train_prices[g])) if g in train_prices else overall) - math.exp(v))
              for g, v in zip(data.groups[data.split:], data.y[data.split:], strict=True)]
    return float(np.mean(errors))


def train(session: Session, *, min_trades: int = 30) -> PriceModel:
    """Fit on the older 80% of trades, measure on the newest 20%, register the model in shadow mode."""
    import lightgbm as lgb

    data = trades(session)
    if len(data.y) < min_trades or data.split >= len(data.y):
        raise ValidationFailed(f"Only {len(data.y)} trades so far: at least {min_trades} are needed to train.")
    booster = lgb.train({"objective": "regression", "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 10,
                         "seed": 7, "deterministic": True, "verbose": -1, "num_threads": 2},
                        lgb.Dataset(data.x[:data.split], data.y[:data.split], feature_name=FEATURES,
                                    categorical_feature=["product_type", "unit"]), num_boost_round=300)
    predicted = np.exp(booster.predict(data.x[data.split:]))
    mae = float(np.mean(np.abs(predicted - np.exp(data.y[data.split:]))))
    version = (session.exec(select(func.max(PriceModel.version))).one() or 0) + 1
    prices = sorted(math.exp(v) for v in data.y[:data.split])
    model = PriceModel(version=version, features=FEATURES, artifact=booster.model_to_string(), trained_at=utcnow(),
                       metrics={"n_train": data.split, "n_val": len(data.y) - data.split, "mae": round(mae, 2),
                                "baseline_mae": round(_baseline_mae(data), 2),
                                "split_at": data.split_at.isoformat() if data.split_at else None,
                                "price_percentiles": [round(prices[min(len(prices) - 1, int(i / 100 * len(prices)))], 2)
                                                      for i in range(101)]})
    session.add(model)
    session.flush()
    transitions.record_created(session, model, actor_id=None, note="trained")
    audit.record(session, action="quality.model.trained", object_type="cqi_price_model", object_id=version,
                 after={k: v for k, v in model.metrics.items() if k != "price_percentiles"})
    return model


def can_promote(model: PriceModel, min_samples: int) -> str | None:
    """None when the model may be promoted, else why not."""
    n = model.metrics["n_train"] + model.metrics["n_val"]
    if n < min_samples:
        return f"Trained on {n} trades; promotion needs at least {min_samples}."
    if model.metrics["mae"] >= model.metrics["baseline_mae"]:
        return (f"Its validation error (${model.metrics['mae']}) does not beat the baseline "
                f"(${model.metrics['baseline_mae']}).")
    return None


def promote(session: Session, *, admin: Principal, model_id: uuid.UUID) -> PriceModel:
    from icc_app.quality.service import active_config

    require_platform_admin(admin)
    model = session.get(PriceModel, model_id)
    if model is None:
        raise NotFound("Model not found.")
    if ModelStatus(model.status) != ModelStatus.shadow:
        raise Conflict(f"Model v{model.version} is {ModelStatus(model.status).value}.")
    problem = can_promote(model, int(active_config(session).params.get("model_min_samples", DEFAULT_MIN_SAMPLES)))
    if problem:
        raise ValidationFailed(problem)
    for other in session.exec(select(PriceModel).where(PriceModel.status == ModelStatus.promoted)):
        transitions.model_transition(session, other, "retire", actor="system", actor_id=admin.user_id,
                                     note=f"model v{model.version} promoted")
    transitions.model_transition(session, model, "promote", actor="admin", actor_id=admin.user_id,
                                 note=f"validation MAE ${model.metrics['mae']} vs baseline ${model.metrics['baseline_mae']}")
    return model


def latest_model(session: Session) -> PriceModel | None:
    """The promoted model, else the newest shadow one."""
    return (session.exec(select(PriceModel).where(PriceModel.status == ModelStatus.promoted)).first()
            or session.exec(select(PriceModel).where(PriceModel.status == ModelStatus.shadow)
                            .order_by(col(PriceModel.version).desc())).first())


def shadow_score(session: Session, lot: Lot, model: PriceModel) -> CQIScore:
    """The model's view of a lot, stored beside the rules' score: its predicted clearing price and where that
    price falls among the trades it learned from (0-100)."""
    import lightgbm as lgb
    import sqlalchemy as sa

    booster = lgb.Booster(model_str=model.artifact)
    coa = session.get(CoaDocument, lot.coa_id) if lot.coa_id else None
    completed = session.exec(select(func.count()).select_from(Order).where(
        Order.seller_business_id == lot.business_id, Order.status == OrderStatus.received)).one()
    price = math.exp(float(booster.predict(np.array([_row(lot, coa, datetime.now(UTC).date(), completed)]))[0]))
    table = model.metrics["price_percentiles"]
    rank = 100.0 * sum(1 for p in table if p <= price) / len(table)
    session.execute(sa.update(CQIScore).where(CQIScore.lot_id == lot.id, CQIScore.scorer.like("model:%")).values(
        is_current=False))
    row = CQIScore(lot_id=lot.id, config_version=model.version, total=round(rank, 1), scorer=f"model:v{model.version}",
                   reason=f"{ModelStatus(model.status).value} model v{model.version}: predicted clearing price",
                   components=[{"name": "predicted_price", "score": round(rank, 1), "weight": 1.0,
                                "inputs": f"${price:,.2f} per {lot.unit}",
                                "reason": f"Higher than {rank:.0f}% of the prices in {model.metrics['n_train']} trades.",
                                "improve": ""}])
    session.add(row)
    return row


def list_models(session: Session) -> list[PriceModel]:
    return list(session.exec(select(PriceModel).order_by(col(PriceModel.version).desc())))
