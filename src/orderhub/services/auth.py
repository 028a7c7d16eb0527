"""Client credentials, OAuth2 tokens and who a token speaks for."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from orderhub.access_facts import signed_in, signed_in_as
from orderhub.domain.catalog import ProductKind
from orderhub.domain.errors import DomainError, InvalidToken, NotAuthenticated
from orderhub.domain.partners import Principal, Role
from orderhub.services.clock import Clock, utc_now
from orderhub.services.ports import Database, UnitOfWork
from orderhub.services.sign_ins import SignIns

ACCESS = "access"
REFRESH = "refresh"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
# Past this many cached tokens the cache starts again: a bound on memory, not a correctness matter.
MAX_CACHED_TOKENS = 100_000
# A client id and secret sent with every request (tmf-productorder) are checked with scrypt once, then
# trusted for this long: long enough that a partner's traffic does not pay tens of milliseconds per
# request, short enough that a stolen-and-changed secret stops working soon. A revocation applies at
# once (the cache is keyed on the config version).
CLIENT_VERIFICATION_TTL = timedelta(seconds=60)


def hash_secret(secret: str) -> str:
    """A salted scrypt hash; the secret itself is never stored."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


# Checked against when the client id is unknown or revoked, so that the answer takes as long as for a
# known id with a wrong secret: timing must not tell which client ids exist. Checking costs the same
# whatever the digest, so a random one does (no secret hashes to it) without an scrypt at every start-up.
_DUMMY_HASH = f"scrypt${secrets.token_hex(16)}${secrets.token_hex(32)}"
# scrypt takes ~40 ms and 16 MB: at most this many at once, whatever arrives.
MAX_CONCURRENT_HASHES = 2


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt_hex), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest.hex(), digest_hex) and "\x00" not in secret  # HMAC zero-pads short keys


def _client_key(client_id: str, client_secret: str) -> tuple[str, str]:
    # A digest of the secret: the cache never holds a secret itself.
    return client_id, hashlib.sha256(client_secret.encode()).hexdigest()


def _token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a plain SHA-256 is enough to make a stolen table useless.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class _CachedToken:
    principal: Principal
    expires_at: datetime


@dataclass(frozen=True)
class Caller:
    """Who a request speaks for, to place an order with.

    ``unchecked_at``: None when the principal was checked against the store's config version as it
    stood after the request arrived. Otherwise the version it was cached at: reading the store's costs
    a wait of its own on PostgreSQL, so the order's write reads it instead, with its other reads, and
    when it moved the request asks ``again`` for a principal checked now and starts over.
    """

    principal: Principal
    unchecked_at: int | None = None
    again: Callable[[], Awaitable[Principal]] | None = None


class AuthService:
    """Issues and checks tokens. Checked tokens are cached per process, keyed on the store's config
    version, which every change to partners, credentials or the catalog moves on (also from another
    process): a revoked credential stops working at the next request.
    """

    def __init__(
        self,
        db: Database,
        *,
        access_ttl: timedelta = timedelta(hours=1),
        refresh_ttl: timedelta = timedelta(days=30),
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._clock = clock
        self._cache_version: int | None = None
        self._cache: dict[str, _CachedToken] = {}
        self._verified: dict[tuple[str, str], _CachedToken] = {}
        self._sign_ins = SignIns(db, clock)
        self._hashing: asyncio.Semaphore | None = None
        self._verifying: dict[tuple[str, str, int], asyncio.Future[Principal]] = {}

    async def issue_token(self, client_id: str, client_secret: str, *, source: str | None = None) -> TokenPair:
        await self._check_secret(client_id, client_secret, source)
        return await self._db.write(lambda uow: self._new_pair(uow, client_id))

    async def _check_secret(self, client_id: str, client_secret: str, source: str | None) -> str:
        """The partner id of a live credential whose secret matches; otherwise NotAuthenticated (the
        same work and the same answer for an unknown id, a revoked one and a wrong secret), or
        TooManyAttempts once a client id or a source has failed too often (services.sign_ins: counted
        in the database, for every process, each attempt charged there before its hash), before any
        hash."""
        sign_in = await self._sign_ins.check(client_id, source)
        credential = sign_in.credential
        live = credential is not None and credential.revoked_at is None
        stored = credential.secret_hash if credential is not None and live else _DUMMY_HASH
        if self._hashing is None:
            self._hashing = asyncio.Semaphore(MAX_CONCURRENT_HASHES)
        async with self._hashing:
            # Charged once its turn to hash has come, taken back before that turn ends: a process has no
            # more charges in flight than it runs hashes, for other attempts of the key to count. An
            # attempt cancelled meanwhile keeps its charge: its hash may run on, and may be a guess.
            charged = await self._sign_ins.charge(sign_in)
            # scrypt takes tens of milliseconds of CPU on purpose: never on the event loop.
            matches = await asyncio.to_thread(verify_secret, client_secret, stored)
            if live and matches:
                await self._sign_ins.signed_in(sign_in, charged)
        if not (live and matches):
            raise NotAuthenticated("client authentication failed")  # the charge stays: the failure
        assert credential is not None
        return signed_in_as(credential.partner_id)  # for the access line: the token endpoint's too

    async def refresh(
        self, refresh_token: str, *, client_id: str, client_secret: str, source: str | None = None
    ) -> TokenPair:
        """A new pair for a refresh token of this client (RFC 6749 §6: the client authenticates too).

        Refresh tokens are single use. One presented again is a replay (stolen, or a client's bug):
        every token issued from the same sign-in is revoked, so a thief's copy stops working as well.
        """
        await self._check_secret(client_id, client_secret, source)
        token_hash = _token_hash(refresh_token)

        def rotate(uow: UnitOfWork) -> TokenPair | str:
            now = self._clock()
            stored = uow.partners.get_token(token_hash)
            if stored is None or stored.kind != REFRESH or stored.expires_at <= now or stored.client_id != client_id:
                return "invalid"
            # Of two requests racing with one token (other processes, PostgreSQL), one marks it used.
            if stored.used_at is not None or not uow.partners.use_refresh_token(token_hash, now):
                if stored.family is not None:
                    uow.partners.revoke_family(stored.family)
                return "replayed"  # returned, not raised: the revocation must commit
            return self._new_pair(uow, client_id, family=stored.family)

        outcome = await self._db.write(rotate)
        if outcome == "replayed":
            raise NotAuthenticated("refresh token was used before: every token issued from it is revoked")
        if isinstance(outcome, str):
            raise NotAuthenticated("refresh token is invalid or expired")
        return outcome

    def _new_pair(self, uow: UnitOfWork, client_id: str, *, family: str | None = None) -> TokenPair:
        credential = uow.partners.get_credential(client_id)
        if credential is None or credential.revoked_at is not None:
            # Revoked between the secret check and this transaction.
            raise NotAuthenticated("unknown or revoked client")
        now = self._clock()
        uow.partners.purge_expired_tokens(now)
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        family = family or secrets.token_hex(16)
        uow.partners.add_token(_token_hash(access), client_id, ACCESS, now + self._access_ttl, family)
        uow.partners.add_token(_token_hash(refresh), client_id, REFRESH, now + self._refresh_ttl, family)
        return TokenPair(access, refresh, int(self._access_ttl.total_seconds()))

    def _fresh_caches(self, version: int) -> None:
        if version != self._cache_version or len(self._cache) + len(self._verified) > MAX_CACHED_TOKENS:
            self._cache = {}
            self._verified = {}
            self._cache_version = version

    async def verify_client(self, client_id: str, client_secret: str, *, source: str | None = None) -> Principal:
        """Who a client id and secret sent with the request speak for (no token involved)."""
        now = self._clock()
        version = await self._db.config_version()
        self._fresh_caches(version)
        key = _client_key(client_id, client_secret)
        cached = self._verified.get(key)
        if cached is not None and cached.expires_at > now:
            return signed_in(cached.principal)
        # Requests that arrive together with the same pair share one (slow) verification, begun under
        # the configuration they are checked against.
        sharing = (*key, version)
        pending = self._verifying.get(sharing)
        if pending is None:
            pending = asyncio.ensure_future(self._verify(client_id, client_secret, source))
            self._verifying[sharing] = pending
            pending.add_done_callback(lambda _done: self._verifying.pop(sharing, None))
        principal = await asyncio.shield(pending)
        if self._cache_version == version:  # else the configuration moved while it was verified
            self._verified[key] = _CachedToken(principal, now + CLIENT_VERIFICATION_TTL)
        return signed_in(principal)

    def cached_client(self, client_id: str, client_secret: str) -> tuple[Principal, int] | None:
        """The principal a client id and secret were verified for, and the config version it was cached
        at, without waiting for the store's where reading it would be a wait of its own (PostgreSQL);
        None elsewhere, or when not cached. For a ``Caller``: the order's write checks the version."""
        if self._db.config_version_at_hand() is not None or self._cache_version is None:
            return None
        cached = self._verified.get(_client_key(client_id, client_secret))
        if cached is None or cached.expires_at <= self._clock():
            return None
        return signed_in(cached.principal), self._cache_version

    async def _verify(self, client_id: str, client_secret: str, source: str | None) -> Principal:
        partner_id = await self._check_secret(client_id, client_secret, source)
        return await self._db.read(lambda uow: principal_of(uow, partner_id))

    async def authenticate(self, access_token: str, *, config_version: int | None = None) -> Principal:
        """Who an access token speaks for. ``config_version``: the store's, when the caller has just read
        it (services.ordering.get_rendered), which spares reading it again. Unlike the other ways in, not
        noted as the request's partner (access_facts): its callers do, a poll's on its HotRequest."""
        now = self._clock()
        version = config_version if config_version is not None else await self._db.config_version()
        self._fresh_caches(version)
        # Keyed on the token itself (it lives in this process's memory anyway): no hash per request.
        cached = self._cache.get(access_token)
        if cached is None:
            token_hash = _token_hash(access_token)
            cached = await self._db.read(lambda uow: _load_token(uow, token_hash))
            if self._cache_version == version:  # else the configuration moved while it was read
                self._cache[access_token] = cached
        if cached.expires_at <= now:
            self._cache.pop(access_token, None)
            raise InvalidToken("access token is invalid or expired")
        return cached.principal

    async def caller(self, access_token: str, allowed: Callable[[Principal], Principal]) -> Caller:
        """Who an access token speaks for, to place an order with, if ``allowed`` (which raises when
        not). From the cache without waiting for the store's config version where reading it would be
        a wait of its own (PostgreSQL): the order's write checks it then (``Caller``)."""
        at_hand = self._db.config_version_at_hand()
        if at_hand is None and self._cache_version is not None:
            cached = self._cache.get(access_token)
            if cached is not None and cached.expires_at > self._clock():
                try:
                    principal = allowed(signed_in(cached.principal))
                except DomainError:
                    pass  # refused on what may be stale: asked again below
                else:
                    return Caller(principal, self._cache_version, lambda: self._allowed(access_token, allowed))
        return Caller(allowed(signed_in(await self.authenticate(access_token, config_version=at_hand))))

    async def _allowed(self, access_token: str, allowed: Callable[[Principal], Principal]) -> Principal:
        return allowed(signed_in(await self.authenticate(access_token)))


def _load_token(uow: UnitOfWork, token_hash: str) -> _CachedToken:
    stored = uow.partners.get_token(token_hash)
    if stored is None or stored.kind != ACCESS:
        raise InvalidToken("access token is invalid or expired")
    credential = uow.partners.get_credential(stored.client_id)
    if credential is None or credential.revoked_at is not None:
        raise InvalidToken("the credential of this token was revoked")
    return _CachedToken(principal_of(uow, credential.partner_id), stored.expires_at)


def principal_of(uow: UnitOfWork, partner_id: str) -> Principal:
    partner = uow.partners.get(partner_id)
    if partner is None:
        raise NotAuthenticated("partner no longer exists")
    visible = {partner.id}
    if Role.ACCOUNT_MANAGER in partner.roles:
        visible.update(uow.partners.managed_by(partner.id))
    sold = uow.catalog.kinds_and_validity(partner.product_ids) if partner.product_ids else {}
    return Principal(
        partner=partner,
        visible_partner_ids=frozenset(visible),
        product_validity_days={product: validity for product, (_, validity) in sold.items()},
        other_kind_products=frozenset(p for p, (kind, _) in sold.items() if kind is not ProductKind.ESIM_DATA),
    )
