"""PDF/A-3b conformance of the record, unsealed and sealed (tests/record/pdfa.py names the
veraPDF rule each check mirrors), and proof that each kind of check can fail."""

import base64
import datetime
import io

import pytest
import weasyprint
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from PIL import Image, ImageDraw
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from consent.record import loops
from consent.record import pdf as record_pdf
from consent.record.seal import pdf_seal
from tests.record.pdfa import RULES, metadata_of, pdfa_failures, revisions
from tests.record.test_pdf import Plan, finalized

HEADER = "6.1.2-1 header version"
INTERPOLATION = "6.2.8-3 no interpolation"
INFO_XMP = "6.6.2.3.1 Info agrees with XMP"
ONE_AF = "6.8 one /AF entry per file"
ENCRYPTION = "6.1.3-2 no encryption"
JAVASCRIPT = "6.6.1 no JavaScript or forbidden actions"
WIDTHS = "6.2.11.5-1 font widths"


def record_files(monkeypatch: pytest.MonkeyPatch, plan: Plan | None = None) -> tuple[bytes, bytes]:
    """A record finalized the real way (drawn signatures, QR code): its unsealed and stored PDF."""
    unsealed: list[bytes] = []

    def sealing(pdf: bytes, *, record_id: str) -> bytes:
        unsealed.append(pdf)
        return pdf_seal(pdf, record_id=record_id)

    monkeypatch.setattr(record_pdf, "pdf_seal", sealing)
    record = finalized(plan)
    with record.pdf.open("rb") as stored:
        return unsealed[0], stored.read()


@pytest.mark.django_db
def test_the_record_conforms_unsealed_and_sealed_with_the_same_metadata(monkeypatch):
    unsealed, sealed = record_files(monkeypatch)
    assert pdfa_failures(unsealed) == {}
    assert pdfa_failures(sealed) == {}
    # The seal is an update of the very document, declaring nothing new about it.
    assert sealed.startswith(unsealed)
    assert sealed[:9] == b"%PDF-1.7\n"
    assert [len(r) for r in revisions(sealed)] == [len(unsealed), len(sealed)]
    assert metadata_of(sealed) == metadata_of(unsealed)
    info, _xmp = metadata_of(sealed)
    assert info["/Producer"].startswith("WeasyPrint")
    # The drawn signatures and the QR code are there, and none is interpolated.
    images = [
        page_image for page in PdfReader(io.BytesIO(sealed)).pages for page_image in page.images
    ]
    assert len(images) >= 3


@pytest.mark.django_db
def test_a_b_lt_seal_keeps_the_record_conforming(monkeypatch, settings, timestamp_authority):
    settings.SEAL_TSA_URL = timestamp_authority[0]
    unsealed, sealed = record_files(monkeypatch, Plan(interpreter=None))
    root = PdfReader(io.BytesIO(sealed)).trailer["/Root"]
    assert "/DSS" in root  # the long-term validation data travels in the file
    assert pdfa_failures(sealed) == {}
    assert metadata_of(sealed) == metadata_of(unsealed)


# Each check can fail: files made to break one rule at a time


def _signature_png() -> str:
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 80), (120, 20), (290, 70)], fill=(0, 0, 80, 255), width=5)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def small_pdf(*, ours: bool) -> bytes:
    """A one-page PDF/A-3b with text, a transparent PNG and an attachment, rendered by
    WeasyPrint as it comes (`ours=False`) or with the record's own fixes (`ours=True`)."""
    style = "img { image-rendering: crisp-edges; }" if ours else ""
    html = (
        f"<html lang=en><head><title>Probe</title><style>{style}</style></head>"
        f"<body><p style='font-family: DejaVu Sans'>Signed here:</p>"
        f"<img src='{_signature_png()}' style='width: 60mm'></body></html>"
    )
    attachment = weasyprint.Attachment(
        string='{"probe": true}', name="probe.json", relationship="Data"
    )
    return weasyprint.HTML(string=html).write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[attachment],
        pdf_identifier=b"probe",
        finisher=record_pdf._one_af_entry_per_file if ours else None,
    )


@pytest.fixture(scope="module")
def conforming() -> bytes:
    data = small_pdf(ours=True)
    assert pdfa_failures(data) == {}
    return data


def test_weasyprint_as_it_comes_interpolates_and_lists_the_attachment_twice():
    failures = pdfa_failures(small_pdf(ours=False))
    assert set(failures) == {INTERPOLATION, ONE_AF}
    assert len(failures[INTERPOLATION]) == 2  # the image and its soft mask


def test_the_old_ecdsa_seal_raises_the_version_and_rewrites_the_producer(conforming, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Old seal")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    p12 = tmp_path / "old.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"old", key, certificate, None, serialization.NoEncryption()
        )
    )
    signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(p12), passphrase=None)
    assert signer is not None
    sealed = loops.call(
        signers.sign_pdf,
        IncrementalPdfFileWriter(io.BytesIO(conforming)),
        signers.PdfSignatureMetadata(field_name="Seal"),
        signer=signer,
    ).getvalue()
    failures = pdfa_failures(sealed)
    assert set(failures) == {HEADER, INFO_XMP}
    assert failures[HEADER] == ["catalog /Version /2.0"]


def _rewritten(data: bytes, change) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _javascript(writer: PdfWriter) -> None:
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1;")}
    )
    writer.root_object[NameObject("/OpenAction")] = action


def _encrypted(writer: PdfWriter) -> None:
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")


def _wider_glyph(writer: PdfWriter) -> None:
    for page in writer.pages:
        for font in page["/Resources"]["/Font"].values():
            cid_font = font.get_object()["/DescendantFonts"][0].get_object()
            widths = cid_font["/W"]
            first_run = widths[1]
            first_run[0] = NumberObject(int(first_run[0]) + 50)


def _interpolated(writer: PdfWriter) -> None:
    for page in writer.pages:
        for image in page["/Resources"]["/XObject"].values():
            image.get_object()[NameObject("/Interpolate")] = BooleanObject(True)


def _attachment_listed_twice(writer: PdfWriter) -> None:
    entries = writer.root_object["/AF"]
    writer.root_object[NameObject("/AF")] = ArrayObject([*entries, entries[0]])


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        (_javascript, JAVASCRIPT),
        (_encrypted, ENCRYPTION),
        (_wider_glyph, WIDTHS),
        (_interpolated, INTERPOLATION),
        (_attachment_listed_twice, ONE_AF),
    ],
)
def test_a_file_made_to_break_a_rule_fails_that_rule(conforming, change, rule):
    assert rule in RULES
    assert rule in pdfa_failures(_rewritten(conforming, change))
