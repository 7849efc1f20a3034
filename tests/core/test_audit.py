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
    with unit_of_work() as session:
        notes = session.exec(select(Notification).where(Notification.user_id == admin.id)).all()
    assert [n.kind for n in notes] == ["security.audit_chain_broken"]
    assert redis_client.llen("notifications") == 1  # the alert email went to the notifications queue
