"""PostgreSQL's commit marks (services.settled_events): the newest event id, the transactions of orderhub's
database in progress when it was read, and whether those of an earlier read have all ended.

Every transaction that has a transaction id (one that wrote; a savepoint's, a prepared one's) holds the
lock on that id until it ends, and pg_locks reads every such lock at one moment, a prepared transaction's
included (its locks pass to it under the lock table's locks). So they are read there. A snapshot's list of
transactions in progress (pg_current_snapshot) would not do: it holds only those below the newest one that
had ended, and misses a transaction that took its id later and its event id earlier than one committed.

The locks are read as the statement runs, after its snapshot (taken as it starts) read the newest event id.
A transaction that took an event id below it took its transaction id before, and so has either ended by
then or is among the locks read.

Transactions of other databases on the server are not waited for: they cannot write orderhub's events,
and a long one (another application's) held every event up to the 60 s fallback. A transaction is taken
for another database's only when its session's database is seen to be another one (a session's never
changes; its process id and database are shown to every role): one that cannot be placed is waited for.
"""

from __future__ import annotations

from orderhub.services.records import CommitMarks
from orderhub.store.fastsql import FastSql


def read_commit_marks(sql: FastSql, earlier: str | None) -> CommitMarks:
    """``earlier``: the transactions in progress at an earlier read, as this returned them."""
    row = sql.one(_COMMIT_MARKS, (earlier,))
    assert row is not None
    newest, in_progress, idle, earlier_ended = row
    return CommitMarks(int(newest), str(in_progress), bool(idle), earlier, bool(earlier_ended))


# Read lazily: with no transaction in progress, neither the sessions nor the prepared transactions are.
# A process id is read apart from the locks and may have been taken by a new session since: the one that
# held the lock has then ended, and its transaction with it. (xid has equality, no order: the in-progress
# list is compared as a set.)
_COMMIT_MARKS = """
WITH transactions AS MATERIALIZED (
    SELECT transactionid AS xid, pid FROM pg_locks
    WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted
), other_databases_sessions AS MATERIALIZED (
    SELECT pg_stat_get_backend_pid(session.id) AS pid FROM pg_stat_get_backend_idset() AS session (id)
    WHERE pg_stat_get_backend_pid(session.id) IS NOT NULL
    AND pg_stat_get_backend_dbid(session.id)
        NOT IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
), in_progress AS (
    SELECT xid FROM transactions
    WHERE CASE WHEN pid IS NULL
        THEN NOT EXISTS (
            SELECT 1 FROM pg_prepared_xacts AS prepared
            WHERE prepared.transaction = transactions.xid AND prepared.database <> current_database()
        )
        ELSE pid NOT IN (SELECT pid FROM other_databases_sessions) END
)
SELECT COALESCE((SELECT MAX(id) FROM order_events), 0),
    (SELECT CAST(COALESCE(array_agg(xid), '{}') AS text) FROM in_progress),
    NOT EXISTS (SELECT 1 FROM in_progress),
    NOT EXISTS (SELECT 1 FROM transactions WHERE xid = ANY (CAST(? AS xid[])))
"""
