"""Cost of the keyed (HMAC-SHA256) hash-chained audit log: appends against plain inserts of the same rows, verify
speed, and writing one signed checkpoint."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from bench.common import Section, scratch_database, timed
from icc_app.core import audit
from icc_app.core.db import make_engine

N = 5000


def run() -> Section:
    with scratch_database("icc_bench_audit") as url:
        engine = make_engine(url)

        def plain_inserts():
            with engine.begin() as conn:
                conn.execute(sa.text("CREATE TEMP TABLE IF NOT EXISTS plain_log (LIKE audit_log INCLUDING DEFAULTS)"))
                for i in range(N):
                    conn.execute(
                        sa.text("INSERT INTO plain_log (id, occurred_at, action, object_type, object_id, after, "
                                "prev_hash, hash) VALUES (:i, now(), 'bench.x', 'thing', :o, '{}', '', :h)"),
                        {"i": i, "o": str(i), "h": f"h{i}"},
                    )

        def chained_appends():
            with Session(engine) as session:
                for i in range(N):
                    audit.record(session, action="bench.x", object_type="thing", object_id=i, after={"i": i})
                session.commit()

        def verify():
            with Session(engine) as session:  # the chain itself; checkpoints of the real storage name another DB
                assert audit.verify_chain(session, anchors=False).ok

        def checkpoint():
            import tempfile
            from pathlib import Path

            from icc_app.core.storage import LocalStorage

            with tempfile.TemporaryDirectory() as media, Session(engine) as session:
                assert audit.write_anchor(session, storage=LocalStorage(Path(media))).rows == N

        baseline = timed(plain_inserts)
        chained = timed(chained_appends)
        verified = timed(verify)
        anchored = timed(checkpoint)
        engine.dispose()
    return Section(
        title="Audit chain",
        description=f"{N} audit rows on PostgreSQL in one transaction. Baseline: plain INSERTs of the same rows "
        "without hashing or chaining.",
        headers=["measurement", "seconds", "rows/s", "ratio to baseline"],
        rows=[
            ["baseline: plain inserts", f"{baseline:.3f}", f"{N / baseline:,.0f}", "1.00"],
            ["chained appends (lock + read last hash + HMAC-SHA256)", f"{chained:.3f}", f"{N / chained:,.0f}",
             f"{chained / baseline:.2f}"],
            ["verify whole chain", f"{verified:.3f}", f"{N / verified:,.0f}", f"{verified / baseline:.2f}"],
            ["write one signed checkpoint (head + count)", f"{anchored:.3f}", "", f"{anchored / baseline:.2f}"],
        ],
        notes=["Appends are serialized by a transaction-scoped advisory lock so the chain never forks.",
               "The HMAC key is outside the database (AUDIT_KEY, or derived from SECRET_KEY under its own label); "
               "beat writes a checkpoint to storage every 10 minutes."],
    )
