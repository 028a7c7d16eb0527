"""Orders, their items and history, their numbers, cancellation requests and event listeners."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.tables.base import metadata
from orderhub.store.types import DecimalText, UtcDateTime

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # Indexed by ix_orders_partner_listing, which begins with it.
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False),
    sa.Column("dialect", sa.String(32), nullable=False),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=True),
    # What the order acts on (domain.orders.Subject): an ICCID, a line id, an access id.
    sa.Column("subject_kind", sa.String(16), nullable=True),
    sa.Column("subject_ref", sa.String(64), nullable=True),
    # The partner-facing order number of dialects that show one (ORD-YYYYMMDDHHMMSS-NNNN).
    sa.Column("reference", sa.String(40), nullable=True),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("output", sa.JSON, nullable=False),
    sa.Column("failure_reason", sa.Text, nullable=True),
    sa.Column("correlation_id", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # Work queue columns: when the order is due, and which worker holds it until when.
    sa.Column("due_at", UtcDateTime, nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # Set when a partner deletes the order (TMF622 DELETE): hidden from its APIs, kept for the audit trail.
    sa.Column("deleted_at", UtcDateTime, nullable=True),
    # Moves with every change of what an API shows of the order (state, output, request, history):
    # a representation made at one version stays right until the version moves (services.rendered_orders).
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_orders_work_queue", "state", "due_at"),
    sa.Index("ix_orders_subject", "subject_ref", "subject_kind"),
    # A partner's listing (TMF622 GET /productOrder, `orderhub order list --partner`): counted from the
    # index alone, its page read newest first.
    sa.Index("ix_orders_partner_listing", "partner_id", "operation", "deleted_at", "created_at"),
    sa.Index("uq_orders_reference", "reference", unique=True),
    # An id an operator reads in an access line, or a partner quotes: `orderhub order list --correlation-id`.
    sa.Index("ix_orders_correlation_id", "correlation_id"),
    # A customer's orders (`orderhub customer erase`, `export`, `erase --inactive-since`; migration 0028).
    sa.Index(
        "ix_orders_customer_id",
        "customer_id",
        sqlite_where=sa.text("customer_id IS NOT NULL"),
        postgresql_where=sa.text("customer_id IS NOT NULL"),
    ),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("price", DecimalText, nullable=True),
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("activation_at", UtcDateTime, nullable=True),
    sa.Column("action", sa.String(16), nullable=False, server_default="add"),
    sa.Column("attributes", sa.JSON, nullable=True),
    # How the item ended (domain.orders.ItemState), once its order ended.
    sa.Column("state", sa.String(16), nullable=True),
    sa.Column("failure_reason", sa.Text, nullable=True),
)

order_events = sa.Table(
    "order_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("from_state", sa.String(32), nullable=True),
    sa.Column("to_state", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    # What the event shows of its order, as it was right after it (domain.orders.OrderSnapshot), for the
    # orders listeners hear about; NULL for the others and for events stored before migration 0013.
    sa.Column("snapshot", sa.JSON, nullable=True),
    # The cancellation request a note of the order's history is about (domain EventKind.CANCELLATION_*),
    # rendered from its row when the note is sent; NULL for every other event (migration 0022).
    sa.Column(
        "cancellation_id",
        sa.String(36),
        sa.ForeignKey("cancellations.id", name="fk_order_events_cancellation_id_cancellations"),
        nullable=True,
    ),
    # The order's partner, on the events listeners hear of (domain LISTENED_OPERATIONS), so that a
    # listener's pending events are found among its partner's alone; NULL on the others (migration 0024).
    sa.Column("partner_id", sa.String(36), nullable=True),
    sa.Index(
        "ix_order_events_listened",
        "partner_id",
        "id",
        sqlite_where=sa.text("partner_id IS NOT NULL"),
        postgresql_where=sa.text("partner_id IS NOT NULL"),
    ),
)


# How many orders were numbered in each second (domain.identifiers.order_reference). An upsert on the
# second's row hands out each number once, also across processes; old rows are pruned as time moves on.
order_numbers = sa.Table(
    "order_numbers",
    metadata,
    sa.Column("second", sa.String(14), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)


# A partner's request to cancel an order (TMF622 cancelProductOrder) and how it ended.
cancellations = sa.Table(
    "cancellations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, index=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("requested_for", UtcDateTime, nullable=True),
    sa.Column("refusal", sa.Text, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("effective_at", UtcDateTime, nullable=True),
)

# Partners' event listeners (TMF622 hub). The order events are the outbox: they are written in the
# transaction that changes the order, and each listener keeps a cursor into them.
hub_listeners = sa.Table(
    "hub_listeners",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
    sa.Column("callback", sa.String(500), nullable=False),
    sa.Column("query", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # The last order event delivered; events after it are delivered in order, one at a time.
    sa.Column("delivered_event_id", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("lease_until", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
)
