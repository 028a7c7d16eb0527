"""Client credentials, OAuth2 tokens and who a token speaks for."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from orderhub.domain.errors import NotAuthenticated
from orderhub.domain.partners import Principal, Role
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import UnitOfWork, UnitOfWorkFactory

ACCESS = "access"
REFRESH = "refresh"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    """A salted scrypt hash; the secret itself is never stored."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex)


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class AuthService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        access_ttl: timedelta = timedelta(hours=1),
        refresh_ttl: timedelta = timedelta(days=30),
        clock: Clock = utc_now,
    ) -> None:
        self._uow = uow_factory
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._clock = clock

    def issue_token(self, client_id: str, client_secret: str) -> TokenPair:
        with self._uow() as uow:
            credential = uow.partners.get_credential(client_id)
            if credential is None or credential.revoked_at is not None:
                raise NotAuthenticated("unknown or revoked client")
            if not verify_secret(client_secret, credential.secret_hash):
                raise NotAuthenticated("client secret does not match")
            pair = self._new_pair(uow, client_id)
            uow.commit()
            return pair

    def refresh(self, refresh_token: str) -> TokenPair:
        now = self._clock()
        with self._uow() as uow:
            token_hash = _token_hash(refresh_token)
            stored = uow.partners.get_token(token_hash)
            if stored is None or stored.kind != REFRESH or stored.expires_at <= now:
                raise NotAuthenticated("refresh token is invalid or expired")
            # Refresh tokens are single use: the old one goes as the new pair is issued.
            uow.partners.delete_token(token_hash)
            pair = self._new_pair(uow, stored.client_id)
            uow.commit()
            return pair

    def _new_pair(self, uow: UnitOfWork, client_id: str) -> TokenPair:
        now = self._clock()
        uow.partners.purge_expired_tokens(now)
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        uow.partners.add_token(_token_hash(access), client_id, ACCESS, now + self._access_ttl)
        uow.partners.add_token(_token_hash(refresh), client_id, REFRESH, now + self._refresh_ttl)
        return TokenPair(access, refresh, int(self._access_ttl.total_seconds()))

    def authenticate(self, access_token: str) -> Principal:
        now = self._clock()
        with self._uow(read_only=True) as uow:
            stored = uow.partners.get_token(_token_hash(access_token))
            if stored is None or stored.kind != ACCESS or stored.expires_at <= now:
                raise NotAuthenticated("access token is invalid or expired")
            credential = uow.partners.get_credential(stored.client_id)
            if credential is None or credential.revoked_at is not None:
                raise NotAuthenticated("the credential of this token was revoked")
            return principal_of(uow, credential.partner_id)


def principal_of(uow: UnitOfWork, partner_id: str) -> Principal:
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise NotAuthenticated("partner no longer exists")
    visible = {partner.id}
    if Role.ACCOUNT_MANAGER in partner.roles:
        visible.update(uow.partners.managed_by(partner.id))
    return Principal(partner=partner, visible_partner_ids=frozenset(visible))
