"""Customers: the end users partners order for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Customer:
    id: str
    partner_id: str
    email: str
    created_at: datetime
    country_of_residence: str | None = None
