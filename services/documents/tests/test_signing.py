"""PAdES signing (person, then organisation) and validation of signed PDFs, with real keys.

Keys are generated once per session (EC P-256 for speed; the local stack uses RSA 2048), and
the documents are signed once per session too: each test reads the same signed bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import pytest_asyncio
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper

from services.documents.rendering.official_document import (
    OfficialDocumentContent,
    RenderedDocument,
    render_official_document,
)
from services.documents.signing.appearance import Placement, seal_over
from services.documents.signing.config import (
    SigningConfigError,
    SigningSettings,
    load_certificates,
    load_p12_signer,
    load_signing_kit,
)
from services.documents.signing.local_pki import (
    DOCUMENT_SIGNING,
    LocalPki,
    ensure_test_pki,
)
from services.documents.signing.seal import draw_seal, seal_png
from services.documents.signing.sign import (
    ORGANISATION_FIELD,
    PERSON_FIELD,
    SigningFailed,
    identity_of,
    seal_as_organisation,
    sign_as_person,
    sign_pdf,
)
from services.documents.signing.validate import validate_pdf, validate_pdf_async
from services.documents.signing.verdict import Coverage, Verdict

DIRECTOR = "Nguyễn Văn An"
DEPARTMENT = "Sở Giáo dục và Đào tạo Hải Phòng"


# ---------------------------------------------------------------- fixtures (once per session)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPki:
    return ensure_test_pki(tmp_path_factory.mktemp("signing-pki"), key_type="ec")


@pytest.fixture(scope="session")
def rogue_pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPki:
    # Same names, but its own root: a forger's certificate for the Director.
    return ensure_test_pki(tmp_path_factory.mktemp("rogue-pki"), ca_name="Rogue CA", key_type="ec")


@pytest.fixture(scope="session")
def roots(pki: LocalPki) -> tuple[asn1_x509.Certificate, ...]:
    return load_certificates(pki.ca_certificate.read_bytes())


@pytest.fixture(scope="session")
def rendered() -> RenderedDocument:
    return render_official_document(
        OfficialDocumentContent(
            issuer="Sở Giáo dục và Đào tạo",
            issuer_superior="UBND thành phố Hải Phòng",
            number_notation="15/QĐ-SGDĐT",
            issued_on=dt.date(2025, 3, 5),
            type_name="Quyết định",
            summary="Về việc tổ chức Hội khỏe Phù Đổng cấp thành phố",
            body=("Căn cứ Luật Giáo dục ngày 14 tháng 6 năm 2019;",),
            recipients=("Như Điều 3;", "Lưu: VT, GDTrH."),
            signer_position="Giám đốc",
            signer_name=DIRECTOR,
        )
    )


@pytest.fixture(scope="session")
def placement(rendered: RenderedDocument) -> Placement:
    return Placement(rendered.signature_page, rendered.signature_box)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def signed_once(pki: LocalPki, rendered: RenderedDocument, placement: Placement) -> bytes:
    person = load_p12_signer(pki.person_p12, pki.password)
    return await sign_as_person(rendered.pdf, person, placement=placement)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def signed_twice(pki: LocalPki, signed_once: bytes) -> bytes:
    organisation = load_p12_signer(pki.organisation_p12, pki.password)
    # No placement given: the seal finds the person's signature in the PDF and covers it.
    return await seal_as_organisation(
        signed_once, organisation, superior_name="UBND thành phố Hải Phòng"
    )


def _byte_range(pdf: bytes, field: str) -> list[int]:
    reader = PdfFileReader(io.BytesIO(pdf))
    (sig,) = [s for s in reader.embedded_signatures if s.field_name == field]
    return [int(v) for v in sig.sig_object["/ByteRange"]]


# ---------------------------------------------------------------- the test PKI


def test_local_pki_certificates_carry_what_pades_needs(pki: LocalPki) -> None:
    ca = x509.load_pem_x509_certificate(pki.ca_certificate.read_bytes())
    assert str(ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value).startswith(
        "EduHub Test CA "
    )
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    signer = load_p12_signer(pki.person_p12, pki.password)
    assert signer.signing_cert is not None
    cert = x509.load_der_x509_certificate(signer.signing_cert.dump())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert DOCUMENT_SIGNING in list(eku)
    assert cert.issuer == ca.subject
    identity = identity_of(signer.signing_cert)
    assert (identity.common_name, identity.organisation, identity.title) == (
        DIRECTOR,
        DEPARTMENT,
        "Giám đốc",
    )
    seal = identity_of(load_p12_signer(pki.organisation_p12, pki.password).signing_cert)
    assert (seal.common_name, seal.organisation, seal.title) == (DEPARTMENT, DEPARTMENT, None)


def test_local_pki_is_reused_and_a_broken_set_is_regenerated(tmp_path: Path) -> None:
    first = ensure_test_pki(tmp_path, key_type="ec")
    ca_bytes, person_bytes = first.ca_certificate.read_bytes(), first.person_p12.read_bytes()
    again = ensure_test_pki(tmp_path, key_type="ec")
    assert again.ca_certificate.read_bytes() == ca_bytes
    assert again.person_p12.read_bytes() == person_bytes
    assert oct(first.person_p12.stat().st_mode & 0o777) == "0o600"
    first.organisation_p12.write_bytes(b"truncated")
    regenerated = ensure_test_pki(tmp_path, key_type="ec")
    assert regenerated.ca_certificate.read_bytes() != ca_bytes
    load_p12_signer(regenerated.organisation_p12, regenerated.password)


# ---------------------------------------------------------------- signing twice


async def test_both_signatures_valid_second_covers_whole_file(
    signed_once: bytes, signed_twice: bytes, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    result = await validate_pdf_async(signed_twice, roots)
    assert result.verdict is Verdict.OK, result.reason
    assert result.reason.code == "valid"
    assert result.reason.vi == "Cả 2 chữ ký số hợp lệ, văn bản còn nguyên vẹn."
    person, organisation = result.signatures
    assert (person.field, organisation.field) == (PERSON_FIELD, ORGANISATION_FIELD)
    assert (person.signer_common_name, person.signer_organisation) == (DIRECTOR, DEPARTMENT)
    assert organisation.signer_common_name == DEPARTMENT
    for report in result.signatures:
        assert (report.intact, report.valid, report.trusted) == (True, True, True)
        assert report.signing_time is not None and report.signing_time > before
    assert person.signing_time <= organisation.signing_time  # type: ignore[operator]
    # The person's covers its own revision, followed by an allowed update (the seal).
    assert person.coverage is Coverage.ENTIRE_REVISION
    assert person.modified_after and person.modifications_allowed is True
    assert person.reason.code == "valid_with_later_updates"
    assert organisation.coverage is Coverage.ENTIRE_FILE and not organisation.modified_after


def test_first_signature_covers_exactly_its_revision(signed_once: bytes, signed_twice: bytes):
    # Incremental: the once-signed file is a prefix of the twice-signed one, byte for byte,
    # and the first signature's byte range ends exactly where that revision ends.
    assert signed_twice.startswith(signed_once)
    start, _first_len, second_start, second_len = _byte_range(signed_twice, PERSON_FIELD)
    assert start == 0 and second_start + second_len == len(signed_once)
    *_, org_start, org_len = _byte_range(signed_twice, ORGANISATION_FIELD)
    assert org_start + org_len == len(signed_twice)


def test_signature_fields_are_visible_where_the_renderer_said(
    signed_twice: bytes, placement: Placement
) -> None:
    reader = PdfFileReader(io.BytesIO(signed_twice))
    page = reader.root["/Pages"]["/Kids"][placement.page]
    widgets = {str(a["/T"]): a for a in (ref.get_object() for ref in page["/Annots"])}
    person_rect = [float(v) for v in widgets[PERSON_FIELD]["/Rect"]]
    assert person_rect == pytest.approx([round(v) for v in placement.box], abs=1)
    seal_rect = [float(v) for v in widgets[ORGANISATION_FIELD]["/Rect"]]
    expected = seal_over(placement).box
    assert seal_rect == pytest.approx([round(v) for v in expected], abs=1)
    # The seal's right edge lies a third into the person's box (Decree 30's overlap).
    assert seal_rect[2] == pytest.approx(
        person_rect[0] + (person_rect[2] - person_rect[0]) / 3, abs=1
    )
    for widget in widgets.values():
        appearance = widget["/AP"]["/N"]
        assert isinstance(appearance, generic.StreamObject) and appearance.data


def test_drawn_seal_is_red_and_round_on_transparent() -> None:
    seal = draw_seal(DEPARTMENT, "UBND thành phố Hải Phòng", pixels=300)
    assert seal.mode == "RGBA" and seal.size == (300, 300)
    corner, ring = seal.getpixel((2, 2)), seal.getpixel((150, 9))  # ring: the top of the circle
    assert isinstance(corner, tuple) and isinstance(ring, tuple)
    assert corner[3] == 0  # outside the circle: transparent
    red, green, blue, alpha = ring
    assert alpha > 200 and red > 180 and green < 60 and blue < 80
    png = seal_png(DEPARTMENT, None, 120)
    assert Image.open(io.BytesIO(png)).size == (120, 120)


async def test_b_t_signature_carries_the_timestamp(pki: LocalPki, rendered: RenderedDocument):
    ca_key, ca_cert, _ = pkcs12.load_key_and_certificates(pki.ca_p12.read_bytes(), pki.password)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey) and ca_cert is not None
    tsa_key, tsa_cert = _timestamping_certificate(ca_key, ca_cert)
    moment = dt.datetime(2025, 3, 5, 3, 0, tzinfo=dt.UTC)
    stamper = DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key, fixed_dt=moment)
    person = load_p12_signer(pki.person_p12, pki.password)
    signed = await sign_pdf(rendered.pdf, person, "ChuKyB-T", None, timestamper=stamper)
    result = await validate_pdf_async(signed, load_certificates(pki.ca_certificate.read_bytes()))
    assert result.verdict is Verdict.OK, result.reason
    assert result.signatures[0].timestamp_time == moment


def _timestamping_certificate(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
) -> tuple[asn1_keys.PrivateKeyInfo, asn1_x509.Certificate]:
    # pyHanko's DummyTimeStamper (a TSA in-process) signs with RSA only.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    issuer = ca_cert.subject
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EduHub Test TSA")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (
        asn1_keys.PrivateKeyInfo.load(der_key),
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
    )


async def test_signing_the_same_field_twice_or_garbage_fails_clearly(
    pki: LocalPki, signed_once: bytes
) -> None:
    person = load_p12_signer(pki.person_p12, pki.password)
    with pytest.raises(SigningFailed, match=PERSON_FIELD):
        await sign_as_person(signed_once, person)
    with pytest.raises(SigningFailed, match="cannot sign"):
        await sign_as_person(b"not a pdf at all", person)


# ---------------------------------------------------------------- what gets flagged


def test_a_flipped_byte_in_the_signed_content_is_flagged(
    signed_twice: bytes, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    # Inside the page's content stream of the first revision: both signatures cover it.
    position = signed_twice.index(b"stream\n") + len(b"stream\n") + 10
    tampered = bytearray(signed_twice)
    tampered[position] ^= 0x01
    result = validate_pdf(bytes(tampered), roots)
    assert result.verdict is Verdict.FLAGGED
    assert result.reason.code == "tampered"
    assert result.reason.vi == f"Chữ ký của {DIRECTOR}: Nội dung văn bản đã bị thay đổi sau khi ký."
    assert [s.intact for s in result.signatures] == [False, False]
    assert all(s.verdict is Verdict.FLAGGED for s in result.signatures)


def test_content_added_after_signing_is_flagged_as_disallowed(
    signed_twice: bytes, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    # A later incremental update that draws on the page: the signatures stay intact (their
    # bytes are untouched) but the update is not one a signed document may receive.
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_twice))
    stream = writer.add_object(
        generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td (KHONG HOP LE) Tj ET")
    )
    writer.add_stream_to_page(0, stream)
    out = io.BytesIO()
    writer.write(out)
    result = validate_pdf(out.getvalue(), roots)
    assert result.verdict is Verdict.FLAGGED
    assert result.reason.code == "disallowed_changes"
    organisation = result.signatures[1]
    assert organisation.intact and organisation.coverage is Coverage.ENTIRE_REVISION
    assert organisation.modifications_allowed is False


async def test_a_signature_from_an_untrusted_root_is_flagged(
    rogue_pki: LocalPki, rendered: RenderedDocument, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    forger = load_p12_signer(rogue_pki.person_p12, rogue_pki.password)
    forged = await sign_as_person(rendered.pdf, forger)
    result = await validate_pdf_async(forged, roots)
    assert result.verdict is Verdict.FLAGGED
    assert result.reason.code == "untrusted"
    (report,) = result.signatures
    assert report.intact and report.valid and not report.trusted
    assert report.signer_common_name == DIRECTOR  # it claims to be the Director
    # Its own embedded root is not trusted either; with the rogue root it would pass.
    rogue_roots = load_certificates(rogue_pki.ca_certificate.read_bytes())
    assert (await validate_pdf_async(forged, rogue_roots)).verdict is Verdict.OK


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "not_pdf"),
        (b"PK\x03\x04 this is a zip file", "not_pdf"),
        ("Công văn số 15".encode(), "not_pdf"),
        (b"%PDF-1.7\n garbage without any structure", "unreadable"),
    ],
)
def test_not_a_pdf_is_flagged_not_raised(
    content: bytes, code: str, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    result = validate_pdf(content, roots)
    assert (result.verdict, result.reason.code, result.signatures) == (Verdict.FLAGGED, code, ())
    assert result.reason.vi and result.reason.en


def test_truncated_and_unsigned_pdfs_are_flagged(
    signed_twice: bytes, rendered: RenderedDocument, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    unsigned = validate_pdf(rendered.pdf, roots)
    assert (unsigned.verdict, unsigned.reason.code) == (Verdict.FLAGGED, "unsigned")
    assert unsigned.reason.vi == "Văn bản không có chữ ký số."
    truncated = validate_pdf(signed_twice[: len(signed_twice) // 2], roots)
    assert truncated.verdict is Verdict.FLAGGED
    assert truncated.reason.code in {"unreadable", "unsigned", "tampered", "malformed"}


def test_no_trust_roots_trusts_nobody(signed_twice: bytes) -> None:
    result = validate_pdf(signed_twice, [])
    assert (result.verdict, result.reason.code) == (Verdict.FLAGGED, "untrusted")
    assert [s.intact for s in result.signatures] == [True, True]


def test_validation_report_serialises_to_json(
    signed_twice: bytes, roots: tuple[asn1_x509.Certificate, ...]
) -> None:
    data = validate_pdf(signed_twice, roots).to_json()
    assert data["verdict"] == "ok"
    first = data["signatures"][0]  # type: ignore[index]
    assert first["coverage"] == "entire_revision" and first["signer_common_name"] == DIRECTOR
    assert isinstance(first["signing_time"], str) and first["signing_time"].startswith("20")


# ---------------------------------------------------------------- configuration


def test_local_environment_uses_the_test_pki(tmp_path: Path) -> None:
    kit = load_signing_kit(SigningSettings(), environment="local", state_dir=tmp_path)
    assert kit.source == "local test PKI"
    assert (tmp_path / "signing" / "eduhub-test-ca.pem").is_file()
    assert identity_of(kit.person.signing_cert).common_name == DIRECTOR
    assert identity_of(kit.organisation.signing_cert).common_name == DEPARTMENT
    (root,) = kit.trust_roots
    assert root.subject.native["common_name"].startswith("EduHub Test CA ")
    assert kit.timestamper is None


def test_production_without_keys_names_the_variables(tmp_path: Path) -> None:
    with pytest.raises(SigningConfigError, match="DOCUMENTS_SIGNER_P12"):
        load_signing_kit(SigningSettings(), environment="production", state_dir=tmp_path)


def test_production_loads_p12_files_from_the_environment(
    pki: LocalPki, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    password = pki.password.decode()
    monkeypatch.setenv("DOCUMENTS_SIGNER_P12", str(pki.person_p12))
    monkeypatch.setenv("DOCUMENTS_SIGNER_P12_PASSWORD", password)
    monkeypatch.setenv("DOCUMENTS_SEAL_P12", str(pki.organisation_p12))
    monkeypatch.setenv("DOCUMENTS_SEAL_P12_PASSWORD", password)
    monkeypatch.setenv("DOCUMENTS_TSA_URL", "http://127.0.0.1:9/tsa")
    settings = SigningSettings()
    with pytest.raises(SigningConfigError, match="DOCUMENTS_TRUST_ROOTS"):
        load_signing_kit(settings, environment="production", state_dir=None)
    monkeypatch.setenv("DOCUMENTS_TRUST_ROOTS", str(pki.ca_certificate))
    kit = load_signing_kit(SigningSettings(), environment="production", state_dir=None)
    assert kit.source == "pkcs12" and kit.timestamper is not None
    assert identity_of(kit.person.signing_cert).common_name == DIRECTOR
    monkeypatch.setenv("DOCUMENTS_SIGNER_P12_PASSWORD", "wrong")
    with pytest.raises(SigningConfigError, match=r"signer-person\.p12"):
        load_signing_kit(SigningSettings(), environment="production", state_dir=None)


def test_pkcs11_configuration_is_checked(tmp_path: Path) -> None:
    module = tmp_path / "libtoken.so"
    module.write_bytes(b"\x7fELF")
    with pytest.raises(ValueError, match="either PKCS#12 files or a PKCS#11 token"):
        SigningSettings(pkcs11_lib=module, signer_p12=module)
    settings = SigningSettings(pkcs11_lib=module, pkcs11_token_label="EDUHUB")
    # python-pkcs11 is not installed here: the error says what to install, nothing crashes.
    with pytest.raises(SigningConfigError, match="pkcs11"):
        load_signing_kit(settings, environment="production", state_dir=None)
