"""Partners' client credentials: issued, listed with their last sign-in (to rotate a secret), revoked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from orderhub.cli.base import DbOption, _fail, _services, _warn, console, credential_app, refusals_in_one_line
from orderhub.services.records import StoredCredential

# A credential that signed in this recently is taken to be in use: revoking it is said to refuse someone.
# A day, not the access token's hour: a partner that orders once a night signs in once a night.
IN_USE_WITHIN = timedelta(days=1)


@credential_app.command("issue")
def credential_issue(
    partner_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Issue a client_id / client_secret pair. The secret is shown this once and stored hashed."""
    services = _services(db)
    with refusals_in_one_line():
        issued = services.partners.issue_credential(partner_id)
    if as_json:
        print(json.dumps({"partner": partner_id, "client_id": issued.client_id, "client_secret": issued.client_secret}))
        return
    console.print(f"client_id:     {issued.client_id}\nclient_secret: {issued.client_secret}")
    console.print("[yellow]Store the secret now: it cannot be shown again.[/yellow]")


@credential_app.command("list")
def credential_list(
    partner_id: Annotated[str | None, typer.Argument(help="Only this partner's credentials")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    db: DbOption = None,
) -> None:
    """Every credential, revoked ones too, with when it was issued and last signed in (its secret checked
    right: at /oauth2/token, or on a request that carried it, to within a minute). Never a secret."""
    services = _services(db)
    with refusals_in_one_line():
        listed = services.partners.list_credentials(partner_id)
    if as_json:
        print(json.dumps([_as_json(credential) for credential in listed], indent=2))
        return
    table = Table("client id", "partner", "issued", "last signed in", "revoked")
    for credential in listed:
        row = (
            credential.client_id, credential.partner_id, _when(credential.created_at),
            _when(credential.last_signed_in_at) or "never", _when(credential.revoked_at),
        )  # fmt: skip
        table.add_row(*(escape(value) for value in row))
    console.print(table)


@credential_app.command("revoke")
def credential_revoke(client_id: str, db: DbOption = None) -> None:
    """Revoke a credential; its tokens stop working at once."""
    services = _services(db)
    revoked = services.partners.revoke_credential(client_id)
    if revoked is None:
        raise _fail(f"no live credential {client_id}")
    last = revoked.last_signed_in_at
    console.print(f"credential {escape(client_id)} revoked (last signed in: {_when(last) or 'never'})")
    if last is not None and datetime.now(UTC) - last < IN_USE_WITHIN:
        _warn(f"it signed in within the last day: whoever still uses it is refused from now on ({revoked.partner_id})")


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else ""


def _as_json(credential: StoredCredential) -> dict[str, str | None]:
    def instant(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {
        "client_id": credential.client_id,
        "partner": credential.partner_id,
        "issued_at": instant(credential.created_at),
        "last_signed_in_at": instant(credential.last_signed_in_at),
        "revoked_at": instant(credential.revoked_at),
    }
