"""CQI operations: the active config (versioned, exactly one active), a lot's features from its COA and its
seller's record, scoring one lot (the task) or every active lot in one batch (nightly and on activation), and
the admin's draft -> preview -> activate cycle."""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from icc_app.core import audit
from icc_app.core.db import enqueue
from icc_app.core.errors import Conflict, NotFound, ValidationFailed
from icc_app.core.models import utcnow
from icc_app.core.validation import safe_text
from icc_app.exchange.models import Dispute, DisputeResolution, Lot, LotStatus, Order, OrderEvent, OrderStatus
from icc_app.identity.permissions import require_platform_admin
from icc_app.identity.schemas import Principal
from icc_app.labs.models import CoaDocument, LabAnalyte
from icc_app.quality import calibration, scoring, transitions
from icc_app.quality.models import ConfigStatus, CQIScore, ScoringConfig

LOST = (DisputeResolution.full_refund, DisputeResolution.partial_refund, DisputeResolution.cancel)


def active_config(session: Session) -> ScoringConfig:
    """The active config; version 1 with the default weights is created on first use."""
    config = session.exec(select(ScoringConfig).where(ScoringConfig.status == ConfigStatus.active)).first()
    if config is None:
        config = ScoringConfig(version=1, weights=dict(scoring.DEFAULT_WEIGHTS), params=dict(scoring.DEFAULT_PARAMS),
                               note="defaults")
        session.add(config)
        session.flush()
        transitions.record_created(session, config, actor_id=None, note="the default weights")
        transitions.config_transition(session, config, "activate", actor="system", actor_id=None,
                                      note="first use: the defaults")
    return config


def _reputation(session: Session, business_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int, int]]:
    """(completed orders, disputes lost, cancellations by the seller) per seller, in three grouped queries."""
    completed = dict(session.exec(select(Order.seller_business_id, func.count()).where(
        col(Order.seller_business_id).in_(business_ids), Order.status == OrderStatus.received
    ).group_by(Order.seller_business_id)).all())
    lost = dict(session.exec(select(Order.seller_business_id, func.count()).join(
        Dispute, col(Dispute.order_id) == Order.id).where(
        col(Order.seller_business_id).in_(business_ids), col(Dispute.resolution).in_([r.value for r in LOST])
    ).group_by(Order.seller_business_id)).all())
    cancelled = dict(session.exec(select(Order.seller_business_id, func.count()).join(
        OrderEvent, col(OrderEvent.order_id) == Order.id).where(
        col(Order.seller_business_id).in_(business_ids), OrderEvent.to_status == OrderStatus.cancelled.value,
        OrderEvent.actor_party == "seller").group_by(Order.seller_business_id)).all())
    return {b: (completed.get(b, 0), lost.get(b, 0), cancelled.get(b, 0)) for b in business_ids}


def _terpene_counts(session: Session, coa_ids: list[uuid.UUID], threshold: float) -> dict[uuid.UUID, int]:
    if not coa_ids:
        return {}
    return dict(session.exec(select(LabAnalyte.document_id, func.count()).where(
        col(LabAnalyte.document_id).in_(coa_ids), LabAnalyte.category == "terpene", LabAnalyte.pct > threshold
    ).group_by(LabAnalyte.document_id)).all())


def features(lot: Lot, coa: CoaDocument | None, terpene_count: int | None, record: tuple[int, int, int]
             ) -> scoring.LotFeatures:
    completed, lost, cancelled = record
    if coa is None:
        return scoring.LotFeatures(product_type=str(lot.product_type), has_coa=False)
    return scoring.LotFeatures(
        product_type=str(lot.product_type), total_thc_pct=coa.total_thc_pct, total_cbd_pct=coa.total_cbd_pct,
        total_terpenes_pct=coa.total_terpenes_pct, terpenes_above_threshold=terpene_count,
        panels={p: getattr(coa, f"{p}_status") for p in scoring.PANELS}, moisture_pct=coa.moisture_pct,
        water_activity_aw=coa.water_activity_aw, tested_on=coa.date_tested, packaged_on=lot.package_date,
        completed_orders=completed, disputes_lost=lost, seller_cancellations=cancelled)


def _store(session: Session, lot_id: uuid.UUID, config: ScoringConfig, breakdown: scoring.Breakdown) -> None:
    session.execute(sa.update(CQIScore).where(CQIScore.lot_id == lot_id, CQIScore.is_current == True,  # noqa: E712
                                              CQIScore.scorer == "rules").values(is_current=False))
    session.add(CQIScore(lot_id=lot_id, config_version=config.version, total=breakdown.total, reason=breakdown.reason,
                         flagged=breakdown.flagged, components=breakdown.as_rows()))
    session.execute(sa.update(Lot).where(Lot.id == lot_id).values(cqi_score=breakdown.total))


def score_lot(session: Session, lot_id: uuid.UUID) -> scoring.Breakdown | None:
    """Score one lot with the active config (the quality.score_lot task). Idempotent: same inputs, same score."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        return None
    config = active_config(session)
    coa = session.get(CoaDocument, lot.coa_id) if lot.coa_id else None
    counts = _terpene_counts(session, [coa.id] if coa else [], config.params["terpene_threshold_pct"])
    record = _reputation(session, [lot.business_id])[lot.business_id]
    breakdown = scoring.score(features(lot, coa, counts.get(coa.id) if coa else None, record), config.weights,
                              config.params, calibration.load(session))
    _store(session, lot.id, config, breakdown)
    from icc_app.quality import pricing

    model = pricing.latest_model(session)
    if model is not None and breakdown.total is not None:  # the model scores beside the rules (shadow mode)
        pricing.shadow_score(session, lot, model)
    return breakdown


def _batch_breakdowns(session: Session, weights: dict, params: dict, *, chunk: int = 5000
                      ) -> list[tuple[uuid.UUID, float | None, scoring.Breakdown]]:
    """Score every active lot in memory: a handful of set-based queries per chunk, no per-lot round trips."""
    table = calibration.load(session)
    results = []
    lots = session.exec(select(Lot).where(Lot.status == LotStatus.active).order_by(col(Lot.id))).all()
    for start in range(0, len(lots), chunk):
        part = lots[start:start + chunk]
        coa_ids = [lot.coa_id for lot in part if lot.coa_id]
        coas = {c.id: c for c in session.exec(select(CoaDocument).where(col(CoaDocument.id).in_(coa_ids)))} if coa_ids else {}
        counts = _terpene_counts(session, coa_ids, params["terpene_threshold_pct"])
        records = _reputation(session, sorted({lot.business_id for lot in part}))
        for lot in part:
            coa = coas.get(lot.coa_id) if lot.coa_id else None
            breakdown = scoring.score(features(lot, coa, counts.get(lot.coa_id), records[lot.business_id]),
                                      weights, params, table)
            results.append((lot.id, lot.cqi_score, breakdown))
    return results


def rescore_all(session: Session) -> int:
    """Rescore every active lot with the active config in one batch (nightly, and when a config is activated)."""
    config = active_config(session)
    results = _batch_breakdowns(session, config.weights, config.params)
    ids = [lot_id for lot_id, _, _ in results]
    for start in range(0, len(ids), 5000):
        session.execute(sa.update(CQIScore).where(col(CQIScore.lot_id).in_(ids[start:start + 5000]),
                                                  CQIScore.scorer == "rules").values(is_current=False))
    session.execute(sa.insert(CQIScore), [
        {"lot_id": lot_id, "config_version": config.version, "total": b.total, "reason": b.reason, "flagged": b.flagged,
         "components": b.as_rows(), "is_current": True, "scorer": "rules", "created_at": utcnow(), "updated_at": utcnow()}
        for lot_id, _, b in results])
    if results:
        session.connection().execute(sa.update(Lot.__table__).where(Lot.__table__.c.id == sa.bindparam("lot")).values(
            cqi_score=sa.bindparam("score")), [{"lot": lot_id, "score": b.total} for lot_id, _, b in results])
    return len(results)


def model_score(session: Session, lot_id: uuid.UUID) -> CQIScore | None:
    return session.exec(select(CQIScore).where(CQIScore.lot_id == lot_id, CQIScore.is_current == True,  # noqa: E712
                                               col(CQIScore.scorer).like("model:%")).order_by(col(CQIScore.id).desc())).first()


def current_score(session: Session, lot_id: uuid.UUID) -> CQIScore | None:
    return session.exec(select(CQIScore).where(CQIScore.lot_id == lot_id, CQIScore.is_current == True,  # noqa: E712
                                               CQIScore.scorer == "rules").order_by(col(CQIScore.id).desc())).first()


# --- the admin's config cycle -----------------------------------------------------------------------------------

def create_draft(session: Session, *, admin: Principal, weights: dict, params: dict | None = None, note: str = ""
                 ) -> ScoringConfig:
    require_platform_admin(admin)
    note = safe_text(note, "note", max_length=500)
    params = {**active_config(session).params, **(params or {})}
    problems = scoring.validate(weights, params)
    if problems:
        field, message = problems[0]
        raise ValidationFailed(message, field=field)
    version = (session.exec(select(func.max(ScoringConfig.version))).one() or 0) + 1
    config = ScoringConfig(version=version, weights=weights, params=params, note=note, created_by=admin.user_id)
    session.add(config)
    session.flush()
    transitions.record_created(session, config, actor_id=admin.user_id, note=note)
    audit.record(session, action="quality.config.drafted", object_type="cqi_config", object_id=config.version,
                 actor_id=admin.user_id, after={"weights": weights, "params": params, "note": note})
    return config


@dataclass(frozen=True)
class Preview:
    lots: int
    mean_before: float | None
    mean_after: float | None
    moved_up: int
    moved_down: int
    biggest_moves: list[tuple[str, float | None, float | None]]  # lot id, before, after
    titles: dict[str, str] = field(default_factory=dict)  # lot id -> title, to name the moves


def preview(session: Session, *, admin: Principal, config_id: uuid.UUID) -> Preview:
    """How activating the draft would move the current scores (nothing is written)."""
    require_platform_admin(admin)
    draft = session.get(ScoringConfig, config_id)
    if draft is None:
        raise NotFound("Config not found.")
    results = _batch_breakdowns(session, draft.weights, draft.params)
    pairs = [(str(lot_id), before, b.total) for lot_id, before, b in results]
    before = [p[1] for p in pairs if p[1] is not None]
    after = [p[2] for p in pairs if p[2] is not None]
    moves = sorted((p for p in pairs if p[1] is not None and p[2] is not None), key=lambda p: -abs(p[2] - p[1]))
    return Preview(lots=len(pairs), mean_before=round(statistics.mean(before), 1) if before else None,
                   mean_after=round(statistics.mean(after), 1) if after else None,
                   moved_up=sum(1 for _, b, a in moves if a > b), moved_down=sum(1 for _, b, a in moves if a < b),
                   biggest_moves=moves[:5],
                   titles={str(lot_id): title for lot_id, title in session.exec(
                       select(Lot.id, Lot.title).where(col(Lot.id).in_([uuid.UUID(m[0]) for m in moves[:5]])))})


def activate(session: Session, *, admin: Principal, config_id: uuid.UUID) -> ScoringConfig:
    require_platform_admin(admin)
    configs = session.exec(select(ScoringConfig).with_for_update()).all() if \
        session.get_bind().dialect.name == "postgresql" else session.exec(select(ScoringConfig)).all()
    target = next((c for c in configs if c.id == config_id), None)
    if target is None:
        raise NotFound("Config not found.")
    if ConfigStatus(target.status) != ConfigStatus.draft:
        raise Conflict(f"Version {target.version} is {ConfigStatus(target.status).value}: only a draft is activated.")
    for config in configs:
        if ConfigStatus(config.status) == ConfigStatus.active:
            transitions.config_transition(session, config, "retire", actor="system", actor_id=admin.user_id,
                                          note=f"version {target.version} activated")
    transitions.config_transition(session, target, "activate", actor="admin", actor_id=admin.user_id,
                                  note=target.note)
    enqueue(session, "quality.rescore_all_active_lots")
    return target


def list_configs(session: Session) -> list[ScoringConfig]:
    return list(session.exec(select(ScoringConfig).order_by(col(ScoringConfig.version).desc())))
