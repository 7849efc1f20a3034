"""The hash chain detects edits and deletions; PostgreSQL refuses them outright."""

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from icc_app.core import audit
from icc_app.core.db import unit_of_work


def _write_rows(n: int) -> list[int]:
    ids = []
    with unit_of_work() as session:
        for i in range(n):
            ids.append(audit.record(session, action="test.thing.changed", object_type="thing", object_id=i,
                                    before={"price": i}, after={"price": i + 1}, ip="10.0.0.1").id)
    return ids


def test_intact_chain_verifies(connection):
    _write_rows(5)
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert report.ok and report.rows_checked >= 5


def test_database_refuses_update_and_delete(connection):
    ids = _write_rows(1)
    nested = connection.begin_nested()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        connection.execute(sa.text("UPDATE audit_log SET action='x' WHERE id=:id"), {"id": ids[0]})
    nested.rollback()
    nested = connection.begin_nested()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        connection.execute(sa.text("DELETE FROM audit_log WHERE id=:id"), {"id": ids[0]})
    nested.rollback()


def _tamper(connection, statement: str, row_id: int) -> None:
    """What a superuser could do: disable the append-only trigger and change the table directly."""
    connection.execute(sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    connection.execute(sa.text(statement), {"id": row_id})


@pytest.mark.parametrize(
    ("statement", "victim", "first_bad", "problem"),
    [
        ("UPDATE audit_log SET after = '{\"price\": 999}' WHERE id=:id", 2, 2, "content changed"),
        ("DELETE FROM audit_log WHERE id=:id", 1, 2, "link broken"),
    ],
)
def test_tampering_is_detected(connection, statement, victim, first_bad, problem):
    ids = _write_rows(4)
    _tamper(connection, statement, ids[victim])
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert not report.ok
    assert report.first_bad_id == ids[first_bad]
    assert problem in report.problem


def test_listing_filters_by_action(connection):
    _write_rows(3)
    with unit_of_work() as session:
        rows, total = audit.list_entries(session, action_contains="thing.changed", limit=2)
    assert total == 3 and len(rows) == 2 and rows[0].id > rows[1].id


def test_cli_verify_exit_codes(connection):
    from icc_app.cli import app

    ids = _write_rows(2)
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    _tamper(connection, "UPDATE audit_log SET ip='6.6.6.6' WHERE id=:id", ids[0])
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert f"BROKEN at row {ids[0]}" in bad.output


def test_nightly_task_alerts_platform_admins(connection, redis_client):
    from sqlmodel import select

    from icc_app.core.notifications import Notification
    from icc_app.core.tasks import verify_audit_chain
    from tests.factories import make_user

    with unit_of_work() as session:
        admin = make_user(session, is_platform_admin=True)
    ids = _write_rows(2)
    _tamper(connection, "UPDATE audit_log SET ip='6.6.6.6' WHERE id=:id", ids[1])
    result = verify_audit_chain.run()
    assert result["ok"] is False and result["first_bad_id"] == ids[1]
    verify_audit_chain.run()  # delivered twice: one alert
    with unit_of_work() as session:
        notes = session.exec(select(Notification).where(Notification.user_id == admin.id)).all()
    assert [n.kind for n in notes] == ["security.audit_chain_broken"]
    assert redis_client.llen("notifications") == 1  # the alert email went to the notifications queue


# ---------------------------------------------------------------- keyed chain and checkpoints


@pytest.fixture()
def anchor_storage(tmp_path, monkeypatch):
    """Checkpoints go to a storage of their own for the test (the database is rolled back, files are not)."""
    from icc_app.core.storage import get_storage
    from icc_app.settings import get_settings

    monkeypatch.setenv("STORAGE_URL", f"file://{tmp_path / 'media'}")
    get_settings.cache_clear()
    get_storage.cache_clear()
    yield get_storage()
    get_settings.cache_clear()
    get_storage.cache_clear()


def _rechain_from(connection, first_id: int, *, key: bytes | None) -> None:
    """What an attacker with the database but not the key does: edit a row, then recompute every hash after it
    (plain SHA-256 as the old chain had, or HMAC with a key of their own)."""
    import hashlib
    import hmac as hmac_

    from sqlmodel import Session, select

    with Session(bind=connection) as session:
        rows = session.exec(select(audit.AuditLog).where(audit.AuditLog.id >= first_id).order_by(audit.AuditLog.id)).all()
        prev = session.exec(select(audit.AuditLog.hash).where(audit.AuditLog.id < first_id)
                            .order_by(audit.AuditLog.id.desc()).limit(1)).first() or audit.GENESIS_HASH
        for row in rows:
            canonical = audit._canonical(audit.AuditLog(**{**row.model_dump(), "prev_hash": prev}))
            new = hmac_.new(key, canonical, hashlib.sha256).hexdigest() if key else hashlib.sha256(canonical).hexdigest()
            connection.execute(sa.text("UPDATE audit_log SET prev_hash=:p, hash=:h WHERE id=:id"),
                               {"p": prev, "h": new, "id": row.id})
            prev = new


@pytest.mark.parametrize("attacker_key", [None, b"a key the attacker made up"], ids=["sha256", "own-hmac-key"])
def test_edit_and_rechain_without_the_key_is_detected(connection, anchor_storage, attacker_key):
    ids = _write_rows(4)
    _tamper(connection, "UPDATE audit_log SET after = '{\"price\": 999}' WHERE id=:id", ids[1])
    _rechain_from(connection, ids[1], key=attacker_key)
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == ids[1]
    assert "re-chained without the key" in report.problem


def test_rechain_with_the_real_key_is_caught_by_the_checkpoint(connection, anchor_storage):
    """Even someone holding the key cannot rewrite history that a checkpoint outside the database holds."""
    ids = _write_rows(4)
    with unit_of_work() as session:
        anchor = audit.write_anchor(session)
    assert anchor.head_id == ids[-1] and len(anchor_storage.keys(audit.ANCHOR_PREFIX)) == 1
    _tamper(connection, "UPDATE audit_log SET after = '{\"price\": 999}' WHERE id=:id", ids[1])
    _rechain_from(connection, ids[1], key=audit.chain_key())
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.first_bad_id == ids[-1] and "re-chained" in report.problem


def test_truncating_the_newest_rows_is_detected_by_the_checkpoint(connection, anchor_storage):
    from icc_app.cli import app

    ids = _write_rows(5)
    with unit_of_work() as session:
        audit.write_anchor(session)
        assert audit.verify_chain(session).ok
    _tamper(connection, "DELETE FROM audit_log WHERE id >= :id", ids[3])  # the last two rows
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert not report.ok and "truncated" in report.problem and f"row {ids[4]}" in report.problem
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "truncated" in result.output


def test_forged_checkpoint_is_refused(connection, anchor_storage):
    import json

    ids = _write_rows(2)
    body = {"head_id": ids[0], "head_hash": "f" * 64, "rows": 1, "written_at": "2026-12-01T00:00:00+00:00"}
    anchor_storage.save(audit.ANCHOR_PREFIX, json.dumps({**body, "signature": "0" * 64}).encode())
    with unit_of_work() as session:
        report = audit.verify_chain(session)
    assert not report.ok and "bad signature" in report.problem


def test_cli_anchor_and_the_beat_task_write_checkpoints(connection, anchor_storage):
    from icc_app.cli import app
    from icc_app.core.tasks import anchor_audit_chain
    from workers.beat import SCHEDULE

    ids = _write_rows(1)
    result = CliRunner().invoke(app, ["audit", "anchor"])
    assert result.exit_code == 0 and f"row {ids[0]}" in result.output
    _write_rows(1)
    assert anchor_audit_chain.run()["head_id"] == ids[0] + 1
    assert anchor_audit_chain.run()["head_id"] == ids[0] + 1  # nothing new: nothing written
    assert len(anchor_storage.keys(audit.ANCHOR_PREFIX)) == 2
    assert any(entry["task"] == "core.anchor_audit_chain" for entry in SCHEDULE.values())
