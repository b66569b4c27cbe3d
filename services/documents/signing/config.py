"""Where the signing keys, seal image and trust roots come from, by configuration.

Production: the agency's certificates, either PKCS#12 files (DOCUMENTS_SIGNER_P12 for the
competent person, DOCUMENTS_SEAL_P12 for the organisation, each with its _PASSWORD) or a PKCS#11
token (DOCUMENTS_PKCS11_LIB, the token label and PIN, and the key labels of the two keys), and
the roots to trust when validating incoming documents (DOCUMENTS_TRUST_ROOTS, a PEM bundle,
for example the Government CA's and licensed public CAs' roots). Nothing has a default there.

Local stack (EDUHUB_ENV=local or test): with nothing configured, the test PKI of local_pki.py
is generated into the stack's state directory and used; its root is trusted in addition to
any configured roots.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.signers.pdf_cms import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from services.documents.signing.local_pki import ensure_test_pki


class SigningConfigError(RuntimeError):
    """The signing configuration is missing or unusable; the message says what to set."""


class SigningSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOCUMENTS_", extra="ignore", case_sensitive=False)

    # PKCS#12 files (.p12/.pfx) of the competent person and of the organisation.
    signer_p12: Path | None = None
    signer_p12_password: SecretStr | None = None
    seal_p12: Path | None = None
    seal_p12_password: SecretStr | None = None

    # A PKCS#11 token (USB token or HSM) holding both keys; needs python-pkcs11 installed.
    pkcs11_lib: Path | None = Field(default=None, description="the token's PKCS#11 module (.so)")
    pkcs11_token_label: str | None = None
    pkcs11_pin: SecretStr | None = None
    pkcs11_signer_key_label: str | None = None
    pkcs11_signer_cert_label: str | None = None
    pkcs11_seal_key_label: str | None = None
    pkcs11_seal_cert_label: str | None = None

    seal_image: Path | None = Field(default=None, description="PNG of the real seal, transparent")
    signature_image: Path | None = Field(
        default=None, description="PNG of the competent person's handwritten signature, blue"
    )
    trust_roots: Path | None = Field(
        default=None, description="PEM bundle of the CA roots trusted for incoming documents"
    )
    tsa_url: str | None = Field(
        default=None, description="RFC 3161 timestamp authority: signatures become PAdES B-T"
    )
    # Fetch CRLs/OCSP named in certificates while validating (production networks only).
    revocation_fetching: bool = False

    @model_validator(mode="after")
    def _one_key_source(self) -> SigningSettings:
        if self.pkcs11_lib is not None and (self.signer_p12 or self.seal_p12):
            raise ValueError("configure either PKCS#12 files or a PKCS#11 token, not both")
        for path in (
            self.signer_p12,
            self.seal_p12,
            self.pkcs11_lib,
            self.seal_image,
            self.signature_image,
            self.trust_roots,
        ):
            if path is not None and not path.is_file():
                raise ValueError(f"{path} does not exist")
        return self

    @property
    def keys_configured(self) -> bool:
        return self.pkcs11_lib is not None or self.signer_p12 is not None


@dataclass(frozen=True)
class SigningKit:
    """Everything the documents service signs and validates with, loaded once at start."""

    person: Signer
    organisation: Signer
    trust_roots: tuple[asn1_x509.Certificate, ...]
    timestamper: TimeStamper | None
    seal_png: bytes | None  # None: the seal is drawn from the organisation's name (seal.py)
    signature_png: bytes | None
    revocation_fetching: bool = False
    source: str = ""  # "pkcs12", "pkcs11" or "local test PKI", for the startup log


def load_certificates(data: bytes) -> tuple[asn1_x509.Certificate, ...]:
    """Every certificate of a PEM bundle, or the one of a DER file."""
    if pem.detect(data):
        return tuple(
            asn1_x509.Certificate.load(der)
            for kind, _headers, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        )
    return (asn1_x509.Certificate.load(data),)


def load_p12_signer(path: Path, password: bytes | None) -> Signer:
    try:
        signer = SimpleSigner.load_pkcs12_data(path.read_bytes(), (), passphrase=password)
    except (OSError, ValueError) as error:
        raise SigningConfigError(f"cannot load the PKCS#12 file {path}: {error}") from error
    return signer


def _secret(value: SecretStr | None) -> bytes | None:
    return value.get_secret_value().encode() if value is not None else None


def load_pkcs11_signers(settings: SigningSettings) -> tuple[Signer, Signer, Any]:
    """(person, organisation, session) from the configured token; close the session at stop.

    Not exercised by the tests here: it needs python-pkcs11 (pyhanko[pkcs11]) and a token or
    SoftHSM, neither installed. It follows pyhanko.sign.pkcs11's documented calls.
    """
    try:
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
    except ImportError as error:
        raise SigningConfigError(
            "DOCUMENTS_PKCS11_LIB is set but python-pkcs11 is not installed "
            "(install pyhanko[pkcs11])"
        ) from error
    if not settings.pkcs11_signer_key_label or not settings.pkcs11_seal_key_label:
        raise SigningConfigError(
            "set DOCUMENTS_PKCS11_SIGNER_KEY_LABEL and DOCUMENTS_PKCS11_SEAL_KEY_LABEL"
        )
    pin = settings.pkcs11_pin.get_secret_value() if settings.pkcs11_pin else None
    session = open_pkcs11_session(
        str(settings.pkcs11_lib),
        token_criteria=TokenCriteria(label=settings.pkcs11_token_label),
        user_pin=pin,
    )
    person = PKCS11Signer(
        session,
        key_label=settings.pkcs11_signer_key_label,
        cert_label=settings.pkcs11_signer_cert_label or settings.pkcs11_signer_key_label,
    )
    organisation = PKCS11Signer(
        session,
        key_label=settings.pkcs11_seal_key_label,
        cert_label=settings.pkcs11_seal_cert_label or settings.pkcs11_seal_key_label,
    )
    return person, organisation, session


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


def load_signing_kit(
    settings: SigningSettings, *, environment: str, state_dir: Path | None
) -> SigningKit:
    """The kit for `environment` (ServiceSettings.eduhub_env); IO, so call it at start-up.

    Production without keys or trust roots is an error naming the variables to set; the local
    stack and tests fall back to the test PKI in `state_dir`/signing.
    """
    roots: list[asn1_x509.Certificate] = []
    if settings.trust_roots is not None:
        roots += load_certificates(settings.trust_roots.read_bytes())
    timestamper = HTTPTimeStamper(settings.tsa_url) if settings.tsa_url else None
    common: dict[str, Any] = dict(
        timestamper=timestamper,
        seal_png=_read(settings.seal_image),
        signature_png=_read(settings.signature_image),
        revocation_fetching=settings.revocation_fetching,
    )
    if settings.pkcs11_lib is not None:
        person, organisation, _session = load_pkcs11_signers(settings)
        source = "pkcs11"
    elif settings.signer_p12 is not None:
        if settings.seal_p12 is None:
            raise SigningConfigError("set DOCUMENTS_SEAL_P12, the organisation's PKCS#12 file")
        person = load_p12_signer(settings.signer_p12, _secret(settings.signer_p12_password))
        organisation = load_p12_signer(settings.seal_p12, _secret(settings.seal_p12_password))
        source = "pkcs12"
    elif environment in ("local", "test") and state_dir is not None:
        pki = ensure_test_pki(state_dir / "signing")
        person = load_p12_signer(pki.person_p12, pki.password)
        organisation = load_p12_signer(pki.organisation_p12, pki.password)
        roots += load_certificates(pki.ca_certificate.read_bytes())
        source = "local test PKI"
    else:
        raise SigningConfigError(
            "no signing keys: set DOCUMENTS_SIGNER_P12 and DOCUMENTS_SEAL_P12 (with their "
            "_PASSWORD), or DOCUMENTS_PKCS11_LIB with the token and key labels"
        )
    if not roots:
        raise SigningConfigError(
            "set DOCUMENTS_TRUST_ROOTS to a PEM bundle of the CA roots to trust for incoming "
            "documents"
        )
    return SigningKit(
        person=person, organisation=organisation, trust_roots=tuple(roots), source=source, **common
    )


async def load_signing_kit_async(
    settings: SigningSettings, *, environment: str, state_dir: Path | None
) -> SigningKit:
    """load_signing_kit in a worker thread (key generation and token login block)."""
    return await asyncio.to_thread(
        load_signing_kit, settings, environment=environment, state_dir=state_dir
    )
