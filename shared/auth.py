"""Bearer-token authentication and organisation-scoped authorisation.

Tokens are JWTs signed RS256. Claims: `sub` (who), `role` (department, commune, school,
teacher, auditor, service), `org` (the organisation the caller acts for), `exp`, `iss`, `aud`.
In production the agency's OIDC provider signs them (JWKS URL); the local stack signs its own
(`eduhub token`).

Authorisation follows the organisation tree, as Ed-Fi does with education-organisation
relationships: a caller may act on its own organisation and everything below it. The
Department's token names the province, so it reaches every unit.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, get_args

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

Role = Literal["department", "commune", "school", "teacher", "auditor", "service"]
ROLES: tuple[str, ...] = get_args(Role)


class AuthenticationError(Exception):
    """401: no token, or a token we cannot trust."""


class AuthorisationError(Exception):
    """403: a valid caller asking for something outside its role or scope."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    org_id: str

    @property
    def key(self) -> str:
        return f"{self.role}:{self.org_id}:{self.subject}"


class TokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        public_key_pem: bytes | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if (public_key_pem is None) == (jwks_url is None):
            raise ValueError("give exactly one of a public key or a JWKS URL")
        self._issuer = issuer
        self._audience = audience
        self._key = serialization.load_pem_public_key(public_key_pem) if public_key_pem else None
        self._jwks = jwt.PyJWKClient(jwks_url) if jwks_url else None

    @classmethod
    def from_file(cls, path: Path, *, issuer: str, audience: str) -> TokenVerifier:
        return cls(issuer=issuer, audience=audience, public_key_pem=path.read_bytes())

    def verify(self, token: str) -> Principal:
        try:
            key = self._key if self._key is not None else self._jwks_key(token)
            claims = jwt.decode(
                token,
                key=key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("the token has expired") from None
        except jwt.PyJWTError as exc:
            raise AuthenticationError(f"the token is not valid: {exc}") from None
        role, org = claims.get("role"), claims.get("org")
        if role not in ROLES:
            raise AuthenticationError(f"the token's role {role!r} is not one of {', '.join(ROLES)}")
        if not isinstance(org, str) or not org:
            raise AuthenticationError("the token has no 'org' claim naming its organisation")
        return Principal(subject=str(claims["sub"]), role=role, org_id=org)

    def _jwks_key(self, token: str) -> object:
        assert self._jwks is not None
        return self._jwks.get_signing_key_from_jwt(token).key


def require_role(principal: Principal, roles: Sequence[str]) -> None:
    if principal.role not in roles:
        raise AuthorisationError(
            f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}"
        )


def in_scope(principal: Principal, org_id: str, ancestors: Sequence[str]) -> bool:
    """May `principal` act on `org_id`, whose chain of parents (nearest first) is `ancestors`?"""
    if principal.role == "service":
        return True
    return principal.org_id == org_id or principal.org_id in ancestors


def ensure_in_scope(principal: Principal, org_id: str, ancestors: Sequence[str]) -> None:
    if not in_scope(principal, org_id, ancestors):
        raise AuthorisationError(
            f"organisation {org_id} is outside the scope of {principal.role} {principal.org_id}"
        )


# --- local signing (the local stack and tests; production tokens come from the OIDC provider)


def generate_key_pair(directory: Path) -> tuple[Path, Path]:
    """Write jwt-private.pem and jwt-public.pem into `directory` unless they exist."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "jwt-private.pem", directory / "jwt-public.pem"
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def issue_token(
    private_key_pem: bytes | rsa.RSAPrivateKey,
    *,
    subject: str,
    role: str,
    org_id: str,
    issuer: str = "eduhub-local",
    audience: str = "eduhub",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role,
        "org": org_id,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
    }
    key = (
        private_key_pem
        if isinstance(private_key_pem, rsa.RSAPrivateKey)
        else _private_key(private_key_pem)
    )
    return jwt.encode(claims, key, algorithm="RS256")


@functools.lru_cache(maxsize=8)
def _private_key(pem: bytes) -> rsa.RSAPrivateKey:
    # Parsing a PEM key costs tens of milliseconds; benchmarks and the local stack issue
    # thousands of tokens with the same key.
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the token signing key must be an RSA private key (RS256)")
    return key
