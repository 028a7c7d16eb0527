"""Which intake handles which operation: one entry per operation, the one place to add one."""

from __future__ import annotations

from typing import Any

from orderhub.domain.orders import Operation
from orderhub.services.access_orders import AccessIntake
from orderhub.services.esim_orders import EsimIntake
from orderhub.services.line_orders import LineIntake
from orderhub.services.order_commands import Intake


def default_intakes() -> dict[Operation, Intake[Any]]:
    esim = EsimIntake()
    return {
        Operation.NEW_ESIM: esim,
        Operation.TOPUP: esim,
        Operation.LINE_PRODUCTS: LineIntake(),
        Operation.ACTIVATE_SERVICE: AccessIntake(),
    }
