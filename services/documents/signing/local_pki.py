"""A test PKI for the local stack: a root CA and the two signers an official document needs.

Decree 30 asks for two signatures on an electronic document: the competent person's, then the
organisation's (the seal). Production loads the agency's certificates (issued by the
Government's or a licensed CA) from PKCS#12 files or a token; the local stack has none, so it
makes its own: "EduHub Test CA", the Director of the Department and the Department itself.

Both signer certificates carry what PAdES validators look for: key usage digitalSignature and
nonRepudiation (contentCommitment) and the documentSigning extended key usage. The CA has no
CRL or OCSP address, so validators cannot check revocation: fine for a test PKI, and the reason
these certificates must never be trusted outside the local stack.

Generation is idempotent: a directory that already holds a complete, readable set is reused,
so documents signed in an earlier run still validate against the same root.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# id-kp-documentSigning (RFC 9336); Adobe and EU validators accept it for PDF signatures.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")

CA_FILE = "eduhub-test-ca.pem"
CA_P12 = "eduhub-test-ca.p12"
PERSON_P12 = "signer-person.p12"
ORGANISATION_P12 = "signer-organisation.p12"
PASSWORD_FILE = "pkcs12-password"

DEFAULT_CA_NAME = "EduHub Test CA"
DEFAULT_PERSON = ("Nguyễn Văn An", "Giám đốc")
DEFAULT_ORGANISATION = "Sở Giáo dục và Đào tạo Hải Phòng"
PARENT_ORGANISATION = "UBND thành phố Hải Phòng"
LOCALITY = "Hải Phòng"

PrivateKey: TypeAlias = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class LocalPki:
    """Paths of a generated PKI; the PKCS#12 files share one password (in `password_file`)."""

    directory: Path
    ca_certificate: Path  # PEM, the trust root to configure in validators
    ca_p12: Path  # the CA's own key, to issue more test certificates later
    person_p12: Path
    organisation_p12: Path
    password_file: Path

    @property
    def password(self) -> bytes:
        return self.password_file.read_bytes().strip()


def _new_key(key_type: str) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        # Vietnamese public CAs issue RSA 2048 keys on their tokens; the default mirrors them.
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"key_type must be 'rsa' or 'ec', not {key_type!r}")


def _name(common_name: str, *, organisation: str, title: str | None = None) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, LOCALITY),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _validity(now: dt.datetime, years: int) -> tuple[dt.datetime, dt.datetime]:
    # Backdated a day so a clock a little behind the signer's still accepts the certificate.
    return now - dt.timedelta(days=1), now + dt.timedelta(days=365 * years)


def issue_ca(
    common_name: str = DEFAULT_CA_NAME, *, key_type: str = "rsa"
) -> tuple[PrivateKey, x509.Certificate]:
    key = _new_key(key_type)
    name = _name(common_name, organisation="EduHub (local stack, not for production)")
    not_before, not_after = _validity(dt.datetime.now(dt.UTC), 10)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def issue_signer(
    ca_key: PrivateKey,
    ca_certificate: x509.Certificate,
    common_name: str,
    *,
    organisation: str,
    title: str | None = None,
    key_type: str = "rsa",
) -> tuple[PrivateKey, x509.Certificate]:
    """A document-signing certificate for a person (with a title) or an organisation."""
    key = _new_key(key_type)
    not_before, not_after = _validity(dt.datetime.now(dt.UTC), 3)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation=organisation, title=title))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation, which PAdES validators require
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def pkcs12_bytes(
    label: str,
    key: PrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
    password: bytes,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        label.encode(),
        key,
        certificate,
        chain or None,
        serialization.BestAvailableEncryption(password),
    )


def _paths(directory: Path) -> LocalPki:
    return LocalPki(
        directory=directory,
        ca_certificate=directory / CA_FILE,
        ca_p12=directory / CA_P12,
        person_p12=directory / PERSON_P12,
        organisation_p12=directory / ORGANISATION_P12,
        password_file=directory / PASSWORD_FILE,
    )


def _complete(pki: LocalPki) -> bool:
    files = (pki.ca_certificate, pki.ca_p12, pki.person_p12, pki.organisation_p12)
    if not pki.password_file.is_file() or not all(f.is_file() for f in files):
        return False
    try:
        for p12 in files[1:]:
            pkcs12.load_key_and_certificates(p12.read_bytes(), pki.password)
        x509.load_pem_x509_certificate(pki.ca_certificate.read_bytes())
    except ValueError:
        return False
    return True


def _write_private(path: Path, data: bytes) -> None:
    # Written beside and renamed, so a crash never leaves half a file that looks complete.
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.chmod(0o600)
    partial.replace(path)


def ensure_test_pki(
    directory: Path,
    *,
    ca_name: str | None = None,
    person: tuple[str, str] = DEFAULT_PERSON,
    organisation: str = DEFAULT_ORGANISATION,
    key_type: str = "rsa",
) -> LocalPki:
    """The PKI in `directory`, generated unless a complete readable set is already there."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = _paths(directory)
    if _complete(pki):
        return pki
    password = secrets.token_urlsafe(18).encode()
    # Each installation's test CA gets a name of its own: two local stacks exchanging documents
    # must not find each other's certificates under the same issuer name, or a validator builds
    # a chain to the wrong root and reports a bad signature instead of an untrusted one.
    ca_name = ca_name or f"{DEFAULT_CA_NAME} {secrets.token_hex(3).upper()}"
    ca_key, ca_cert = issue_ca(ca_name, key_type=key_type)
    person_name, person_title = person
    person_key, person_cert = issue_signer(
        ca_key,
        ca_cert,
        person_name,
        organisation=organisation,
        title=person_title,
        key_type=key_type,
    )
    org_key, org_cert = issue_signer(
        ca_key, ca_cert, organisation, organisation=organisation, key_type=key_type
    )
    # The password first: a reader that finds the key files always finds their password.
    _write_private(pki.password_file, password + b"\n")
    _write_private(pki.ca_p12, pkcs12_bytes(ca_name, ca_key, ca_cert, [], password))
    _write_private(
        pki.person_p12, pkcs12_bytes(person_name, person_key, person_cert, [ca_cert], password)
    )
    _write_private(
        pki.organisation_p12, pkcs12_bytes(organisation, org_key, org_cert, [ca_cert], password)
    )
    pki.ca_certificate.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    return pki
