"""Why a PostgreSQL database that answers would still refuse orderhub's writes: it is read-only (a standby
that a failover pointed orderhub at, or ``default_transaction_read_only`` set), or orderhub's role lacks
privileges on its tables. Reading ``config_version`` (the readiness probe's statement) succeeds in
both cases, so the probe said ready while every order and sign-in was refused."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables import metadata

# What orderhub does to every one of its tables: the role that serves needs all four (the one that
# migrated owns them and has them anyway).
_NEEDED = ("SELECT", "INSERT", "UPDATE", "DELETE")

_LACKING = " OR ".join(f"NOT has_table_privilege(t, '{privilege}')" for privilege in _NEEDED)
# One round trip. Tables that are not there yet (migrations behind) are the schema check's to report.
_CHECK = sa.text(
    "SELECT current_setting('transaction_read_only') = 'on', pg_is_in_recovery(), current_user,"
    " ARRAY(SELECT t FROM unnest(CAST(:tables AS text[])) AS t"
    f" WHERE to_regclass(t) IS NOT NULL AND ({_LACKING}) ORDER BY t)"
)


def postgres_write_refusal(connection: sa.Connection) -> str | None:
    """What keeps orderhub from writing this PostgreSQL database (in words for an operator), or None."""
    read_only, standby, role, lacking = connection.execute(_CHECK, {"tables": sorted(metadata.tables)}).one()
    if standby:
        return "the database is read-only: the server is a standby (in recovery); point orderhub at the primary"
    if read_only:
        return "the database is read-only: transaction_read_only is on (default_transaction_read_only set?)"
    if lacking:
        needed = ", ".join(_NEEDED)
        return f"the database role {role} lacks {needed} on: {', '.join(lacking)}"
    return None
