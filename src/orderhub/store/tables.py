"""The schema. Change it only together with a new Alembic migration."""

from __future__ import annotations

import sqlalchemy as sa

from orderhub.store.types import DecimalText, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

partners = sa.Table(
    "partners",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("currencies", sa.JSON, nullable=False),
    sa.Column("manager_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=True),
    sa.Column("callback_url", sa.String(500), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # A communication operator's ON-API id (coId), the language its customers read, and how many
    # requests a minute it may send (no limit when empty).
    sa.Column("co_id", sa.String(64), nullable=True),
    sa.Column("language", sa.String(8), nullable=False, server_default="en"),
    sa.Column("rate_limit_per_minute", sa.Integer, nullable=True),
    sa.Index("uq_partners_co_id", "co_id", unique=True),
)

products = sa.Table(
    "products",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("data_mb", sa.Integer, nullable=True),
    sa.Column("validity_days", sa.Integer, nullable=True),
    sa.Column("footprint", sa.JSON, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

product_prices = sa.Table(
    "product_prices",
    metadata,
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("currency", sa.String(3), primary_key=True),
    sa.Column("amount", DecimalText, nullable=False),
)

partner_products = sa.Table(
    "partner_products",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
)

credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
    sa.Column("secret_hash", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("credentials.client_id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # Tokens issued from one sign-in and its refreshes: a replayed refresh token revokes them all.
    sa.Column("family", sa.String(64), nullable=True, index=True),
    # When a refresh token was used (kept until it expires, so that a replay is recognised).
    sa.Column("used_at", UtcDateTime, nullable=True),
)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False),
    # Each API's key for its customers: e-mail (esim-v1), identification (TMF, ON-API); one at least.
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("country_of_residence", sa.String(2), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("identity_type", sa.String(64), nullable=True),
    sa.Column("identity_value", sa.String(64), nullable=True),
    sa.UniqueConstraint("partner_id", "email", name="uq_customers_partner_email"),
    sa.Index("uq_customers_identity", "partner_id", "identity_type", "identity_value", unique=True),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
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
    sa.Index("ix_orders_work_queue", "state", "due_at"),
    sa.Index("ix_orders_subject", "subject_ref", "subject_kind"),
    sa.Index("uq_orders_reference", "reference", unique=True),
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
)

esim_profiles = sa.Table(
    "esim_profiles",
    metadata,
    sa.Column("iccid", sa.String(22), primary_key=True),
    sa.Column("matching_id", sa.String(64), nullable=False, unique=True),
    sa.Column("smdp_address", sa.String(253), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True, unique=True),
    sa.Column("customer_id", sa.String(36), sa.ForeignKey("customers.id"), nullable=True, index=True),
    sa.Column("luhn_ok", sa.Boolean, nullable=False),
    sa.Column("batch", sa.String(100), nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_esim_profiles_allocation", "state", "created_at", "iccid"),
)

# Insert-only ledger of which order received which profile. Both keys are unique, so the database
# itself refuses a second owner for a profile (or a second profile for an order), whatever code runs.
esim_assignments = sa.Table(
    "esim_assignments",
    metadata,
    sa.Column("iccid", sa.String(22), sa.ForeignKey("esim_profiles.iccid"), primary_key=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False, unique=True),
    sa.Column("assigned_at", UtcDateTime, nullable=False),
)

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("iccid", sa.String(22), sa.ForeignKey("esim_profiles.iccid"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("item_seq", sa.Integer, nullable=False),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One subscription per order item, so re-running a fulfilment cannot create a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_subscriptions_order_item"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

# One row whose version changes with every change to partners, credentials or the catalog, so that
# every process can cache those and still notice a change made by another process at once.
config_version = sa.Table(
    "config_version",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.Integer, nullable=False),
)

# How many orders were numbered in each second (domain.identifiers.order_reference). An upsert on the
# second's row hands out each number once, also across processes; old rows are pruned as time moves on.
order_numbers = sa.Table(
    "order_numbers",
    metadata,
    sa.Column("second", sa.String(14), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)

business_units = sa.Table(
    "business_units",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("msisdn_pattern", sa.String(200), nullable=False),
    sa.Column("msisdn_hint", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

partner_business_units = sa.Table(
    "partner_business_units",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), primary_key=True),
)

# What each business unit sells, and as what: one offering may be sold as a Plan, a DataPlan and an Addon.
business_unit_offerings = sa.Table(
    "business_unit_offerings",
    metadata,
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), primary_key=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("plan_type", sa.String(16), primary_key=True),
    sa.Column("validity_days", sa.Integer, nullable=True),
)

lines = sa.Table(
    "lines",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("business_unit_id", sa.String(16), sa.ForeignKey("business_units.id"), nullable=False),
    sa.Column("msisdn", sa.String(20), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("business_unit_id", "msisdn", name="uq_lines_business_unit_msisdn"),
)

line_products = sa.Table(
    "line_products",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("line_id", sa.String(36), sa.ForeignKey("lines.id"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("item_seq", sa.Integer, nullable=True),
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), nullable=False),
    sa.Column("plan_type", sa.String(16), nullable=False),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One product per order item, so re-running a fulfilment cannot start a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_line_products_order_item"),
)

# A partner's request to cancel an order (TMF622 cancelProductOrder) and how it ended.
cancellations = sa.Table(
    "cancellations",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=False),
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

# The SP's products as ON-API orders them: each with offerings (e.g. speeds), and which CO may order which.
network_offerings = sa.Table(
    "network_offerings",
    metadata,
    sa.Column("product_id", sa.String(64), sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("offering_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
)

partner_network_offerings = sa.Table(
    "partner_network_offerings",
    metadata,
    sa.Column("partner_id", sa.String(64), sa.ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("product_id", sa.String(64), primary_key=True),
    sa.Column("offering_id", sa.String(64), primary_key=True),
    sa.ForeignKeyConstraint(
        ["product_id", "offering_id"],
        ["network_offerings.product_id", "network_offerings.offering_id"],
        name="fk_partner_network_offerings_offering",
    ),
)

accesses = sa.Table(
    "accesses",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("ref", sa.String(64), nullable=False, unique=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

access_services = sa.Table(
    "access_services",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("access_id", sa.String(36), sa.ForeignKey("accesses.id"), nullable=False, index=True),
    sa.Column("order_id", sa.String(36), sa.ForeignKey("orders.id"), nullable=True),
    sa.Column("item_seq", sa.Integer, nullable=True),
    sa.Column("product_id", sa.String(64), nullable=False),
    sa.Column("offering_id", sa.String(64), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    # One service per order item, so re-running an activation cannot start a second one.
    sa.UniqueConstraint("order_id", "item_seq", name="uq_access_services_order_item"),
)
