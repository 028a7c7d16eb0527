"""The schema, one module per concept; every table is on ``metadata``. Change it only together with a new
Alembic migration."""

from __future__ import annotations

from orderhub.store.tables.access_tables import access_services, accesses, network_offerings, partner_network_offerings
from orderhub.store.tables.base import metadata
from orderhub.store.tables.esim_tables import esim_assignments, esim_profiles, subscriptions
from orderhub.store.tables.line_tables import (
    business_unit_offerings,
    business_units,
    line_products,
    lines,
    partner_business_units,
)
from orderhub.store.tables.operator_tables import operator_commands
from orderhub.store.tables.order_tables import (
    cancellations,
    hub_listeners,
    order_events,
    order_items,
    order_numbers,
    orders,
)
from orderhub.store.tables.partner_tables import (
    config_version,
    credentials,
    customers,
    idempotency_keys,
    partner_products,
    partners,
    product_prices,
    products,
    rate_limit_buckets,
    sign_in_failures,
    sign_in_sources,
    tokens,
)

__all__ = [
    "access_services",
    "accesses",
    "business_unit_offerings",
    "business_units",
    "cancellations",
    "config_version",
    "credentials",
    "customers",
    "esim_assignments",
    "esim_profiles",
    "hub_listeners",
    "idempotency_keys",
    "line_products",
    "lines",
    "metadata",
    "network_offerings",
    "operator_commands",
    "order_events",
    "order_items",
    "order_numbers",
    "orders",
    "partner_business_units",
    "partner_network_offerings",
    "partner_products",
    "partners",
    "product_prices",
    "products",
    "rate_limit_buckets",
    "sign_in_failures",
    "sign_in_sources",
    "subscriptions",
    "tokens",
]
