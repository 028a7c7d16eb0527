"""What an OrderQuery selects, as the WHERE of the order search (OrderRepository.search)."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from orderhub.domain.orders import Operation
from orderhub.services.records import OrderQuery
from orderhub.store.tables import orders

# The share of orders SQLite is to take a correlation id to match: as small as a unique key's, so that no
# other condition's index looks narrower to it. Written into the SQL: likelihood() takes no parameter.
_CORRELATION_ID_LIKELIHOOD = "0.000000001"
# The externalId of a TMF order's kept request, as migration 0025 indexes it (the same text, or the index
# goes unused), for LINE_PRODUCTS orders (its index is partial to them).
# (On PostgreSQL its MD5, the UTF-8 text's, as Python's hashlib gives it.)
_EXTERNAL_ID: dict[bool, sa.ColumnElement[str]] = {
    True: sa.literal_column("json_extract(orders.request, '$.order.externalId')"),
    False: sa.literal_column("md5(orders.request -> 'order' ->> 'externalId')"),
}


def _external_id_keys(values: frozenset[str], *, sqlite: bool) -> list[str]:
    """What the index holds for each of ``values``."""
    return sorted(
        values if sqlite else {hashlib.md5(value.encode(), usedforsecurity=False).hexdigest() for value in values}
    )


def search_conditions(query: OrderQuery, *, sqlite: bool) -> list[sa.ColumnElement[bool]]:
    """The conditions an order meets to be selected by ``query`` (all of them); deleted orders never are."""
    conditions: list[sa.ColumnElement[bool]] = [orders.c.deleted_at.is_(None)]
    # An externalId's orders are few. SQLite, with no statistics, took a partner's listing index (three
    # columns matched) or a state's for narrower, and read all of a partner's orders, or all completed
    # ones, for them; it uses no index for a "+column" term.
    by_external_id = sqlite and query.external_ids is not None
    if query.partner_ids is not None:
        partner = sa.literal_column("+orders.partner_id") if by_external_id else orders.c.partner_id
        conditions.append(partner.in_(sorted(query.partner_ids)))
    if query.operations is not None:
        conditions.append(orders.c.operation.in_([operation.value for operation in query.operations]))
    if query.states is not None:
        in_state = sa.literal_column("+orders.state") if by_external_id else orders.c.state
        conditions.append(in_state.in_(sorted(state.value for state in query.states)))
    if query.dialects is not None:
        conditions.append(orders.c.dialect.in_(sorted(query.dialects)))
    if query.references is not None:
        conditions.append(orders.c.reference.in_(sorted(query.references)))
    if query.correlation_ids is not None:
        placed_by: sa.ColumnElement[bool] = orders.c.correlation_id.in_(sorted(query.correlation_ids))
        # A request's orders are few however many are stored: ix_orders_correlation_id finds them. SQLite
        # keeps no statistics that say so, and given a state or a subject too would read every order in that
        # state or on that subject instead; likelihood() says so (PostgreSQL's statistics do).
        if sqlite:  # untyped: as a Boolean, SQLAlchemy would compare it with 1, hiding the column from SQLite
            placed_by = sa.func.likelihood(placed_by, sa.literal_column(_CORRELATION_ID_LIKELIHOOD))
        conditions.append(placed_by)
    if query.external_ids is not None:
        external_id = _EXTERNAL_ID[sqlite].in_(_external_id_keys(query.external_ids, sqlite=sqlite))
        # Written into the SQL: a plan made for any operation (PostgreSQL's generic plan) may not use an
        # index partial to one.
        line_orders = orders.c.operation == sa.literal(Operation.LINE_PRODUCTS.value, literal_execute=True)
        conditions += [line_orders, external_id]
    if query.subject is not None:
        conditions += [orders.c.subject_ref == query.subject.ref, orders.c.subject_kind == query.subject.kind.value]
    if query.created_from is not None:
        conditions.append(orders.c.created_at >= query.created_from)
    if query.created_before is not None:
        conditions.append(orders.c.created_at < query.created_before)
    return conditions
