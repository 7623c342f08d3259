"""The institution's PAdES seal on finalized PDFs: valid as issued, invalid after any change."""

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from consent.models import ConsentRecord, ConsentSession
from consent.record.seal import SealUnavailable, seal_signer
from consent.services import ServiceError
from consent.services import signatures as signature_services
from tests.factories import PASSWORD, attested_session

pytestmark = pytest.mark.django_db


def finalize():
    session = attested_session()
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    return signature_services.session_finalize(
        session=session, physician=session.physician, password=PASSWORD
    )


def seal_status(pdf: bytes):
    reader = PdfFileReader(io.BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[seal_signer().signing_cert])
    return validate_pdf_signature(embedded, context)


@pytest.fixture
def sealed_pdf():
    return finalize().pdf.open("rb").read()


def test_the_stored_pdf_carries_a_valid_intact_seal(sealed_pdf):
    status = seal_status(sealed_pdf)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.bottom_line


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_one_flipped_byte_breaks_the_seal(sealed_pdf, where):
    data = bytearray(sealed_pdf)
    reader = PdfFileReader(io.BytesIO(sealed_pdf))
    (embedded,) = reader.embedded_signatures
    _start, length, second, _ = embedded.byte_range
    # Flip a byte inside the signed ranges, never inside the signature value itself.
    if where < 0.5:
        position = int(length * where)
    else:
        position = second + int((len(data) - second) * where) - 1
    data[position] ^= 0x01
    try:
        status = seal_status(bytes(data))
    except Exception:
        return
    assert not (status.intact and status.valid)


def test_finalization_without_a_signing_key_finalizes_nothing(settings, tmp_path):
    settings.SEAL_P12_PATH = tmp_path / "missing.p12"
    session = attested_session()
    signature_services.patient_consent_sign(
        session=session, confirmed_statements=3, typed_name="Jeanne Testpatient", image=None
    )
    with pytest.raises((SealUnavailable, ServiceError)):
        signature_services.session_finalize(
            session=session, physician=session.physician, password=PASSWORD
        )
    session.refresh_from_db()
    assert session.status == ConsentSession.Status.SIGNED
    assert not ConsentRecord.objects.exists()
