"""The status machines of CQI: scoring configs (draft -> active -> retired) and price models
(shadow -> promoted -> retired). One Rule per verb says who may act (a platform admin, or the system on the
admin's behalf) and from which status; `transition()` is the only code that changes either status, and it
writes a QualityEvent (who, when, from, to, why) and an audit entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlmodel import Session

from icc_app.core import audit
from icc_app.core.errors import Conflict, PermissionDenied
from icc_app.core.models import utcnow
from icc_app.quality.models import ConfigStatus, ModelStatus, PriceModel, QualityEvent, ScoringConfig

C, M = ConfigStatus, ModelStatus


@dataclass(frozen=True)
class Rule:
    sources: frozenset
    target: ConfigStatus | ModelStatus
    actors: frozenset[str]  # "admin" (a person) / "system" (bootstrap, or a side effect of an admin's verb)


CONFIG_TRANSITIONS: dict[str, Rule] = {
    "activate": Rule(frozenset({C.draft}), C.active, frozenset({"admin", "system"})),  # system: the defaults
    # The active config retires when another is activated (inside the admin's activation).
    "retire": Rule(frozenset({C.active}), C.retired, frozenset({"system"})),
}
MODEL_TRANSITIONS: dict[str, Rule] = {
    "promote": Rule(frozenset({M.shadow}), M.promoted, frozenset({"admin"})),
    "retire": Rule(frozenset({M.promoted, M.shadow}), M.retired, frozenset({"admin", "system"})),
}


def _apply(session: Session, obj: ScoringConfig | PriceModel, rules: dict[str, Rule], verb: str, *, actor: str,
           actor_id: uuid.UUID | None, note: str) -> None:
    kind = "cqi_config" if isinstance(obj, ScoringConfig) else "cqi_price_model"
    rule = rules.get(verb)
    if rule is None:
        raise Conflict(f"Unknown action {verb!r}.")
    current = type(rule.target)(obj.status)
    if actor not in rule.actors:
        raise PermissionDenied(f"Only {' or '.join(sorted(rule.actors))} can {verb} a {kind.replace('_', ' ')}.")
    if current not in rule.sources:
        raise Conflict(f"Version {obj.version} is {current.value}: it cannot be {verb}d.")
    obj.status = rule.target
    session.add(obj)
    session.add(QualityEvent(object_type=kind, object_id=obj.id, version=obj.version, actor_id=actor_id,
                             from_status=current.value, to_status=rule.target.value, note=note[:500]))
    audit.record(session, action=f"quality.{kind.removeprefix('cqi_')}.{verb}", object_type=kind,
                 object_id=obj.version, actor_id=actor_id, before={"status": current.value},
                 after={"status": rule.target.value, "note": note[:200]})


def config_transition(session: Session, config: ScoringConfig, verb: str, *, actor: str,
                      actor_id: uuid.UUID | None, note: str = "") -> ScoringConfig:
    _apply(session, config, CONFIG_TRANSITIONS, verb, actor=actor, actor_id=actor_id, note=note)
    if verb == "activate":
        config.activated_at, config.activated_by = utcnow(), actor_id
    return config


def model_transition(session: Session, model: PriceModel, verb: str, *, actor: str, actor_id: uuid.UUID | None,
                     note: str = "") -> PriceModel:
    _apply(session, model, MODEL_TRANSITIONS, verb, actor=actor, actor_id=actor_id, note=note)
    if verb == "promote":
        model.promoted_at, model.promoted_by = utcnow(), actor_id
    return model


def record_created(session: Session, obj: ScoringConfig | PriceModel, *, actor_id: uuid.UUID | None,
                   note: str) -> None:
    """The first event of a config or model: from nothing to its initial status."""
    kind = "cqi_config" if isinstance(obj, ScoringConfig) else "cqi_price_model"
    session.add(QualityEvent(object_type=kind, object_id=obj.id, version=obj.version, actor_id=actor_id,
                             from_status="", to_status=str(getattr(obj.status, "value", obj.status)), note=note[:500]))
