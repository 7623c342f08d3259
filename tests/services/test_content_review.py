"""Sessions on content that is not clinically reviewed: refused with DEBUG off unless
CONSENT_ALLOW_UNREVIEWED_CONTENT allows it (consent/services/sessions.py)."""

from datetime import date

import pytest

from consent.content.importing import pack_import
from consent.content.packs import parse_pack
from consent.models import AuditEvent, ConsentSession, ProcedureVersion
from consent.services import ServiceError
from consent.services.sessions import (
    ERROR_UNREVIEWED_CONTENT,
    consent_session_create,
    procedure_versions_offered,
)
from tests.content.test_content_review import reviewed_pack_bytes
from tests.factories import BIRTH_DATE, ORIGIN, mitraclip_version, physician

pytestmark = pytest.mark.django_db


def reviewed_version() -> ProcedureVersion:
    pack = parse_pack(reviewed_pack_bytes(), source_name="mitraclip.en.toml")
    return pack_import(packs=[pack])[0].version


def create(version: ProcedureVersion) -> ConsentSession:
    doctor = physician()
    return consent_session_create(
        patient_name="Rita Review",
        patient_birth_date=BIRTH_DATE,
        procedure_version=version,
        physician=doctor,
        created_by=doctor,
        origin=ORIGIN,
    )


@pytest.fixture
def strict(settings):
    """A deployment: DEBUG off, unreviewed content not allowed (the default)."""
    settings.DEBUG = False
    settings.CONSENT_ALLOW_UNREVIEWED_CONTENT = False
    return settings


def test_with_debug_off_a_session_on_unreviewed_content_is_refused_and_nothing_is_stored(strict):
    version = mitraclip_version()
    with pytest.raises(ServiceError) as refused:
        create(version)
    assert str(refused.value) == str(ERROR_UNREVIEWED_CONTENT)
    assert "not been clinically reviewed" in str(refused.value)
    assert not ConsentSession.objects.exists()
    assert not AuditEvent.objects.filter(action="session.created").exists()
    assert list(procedure_versions_offered()) == []


def test_with_debug_off_a_session_on_reviewed_content_is_made(strict):
    unreviewed, reviewed = mitraclip_version(), reviewed_version()
    assert create(reviewed).procedure_version == reviewed
    assert list(procedure_versions_offered()) == [reviewed]
    assert unreviewed not in procedure_versions_offered()


def test_with_debug_on_unreviewed_content_is_allowed(strict):
    strict.DEBUG = True
    version = mitraclip_version()
    assert create(version).procedure_version == version
    assert version in procedure_versions_offered()


def test_the_setting_allows_unreviewed_content_with_debug_off(strict):
    strict.CONSENT_ALLOW_UNREVIEWED_CONTENT = True
    version = mitraclip_version()
    assert create(version).procedure_version == version
    assert version in procedure_versions_offered()


def test_a_review_written_into_the_row_behind_the_apps_back_does_not_count(strict):
    """The review must be the hashed pack's: columns rewritten to claim one are not believed."""
    version = mitraclip_version()
    ProcedureVersion.objects.filter(pk=version.pk).update(
        reviewed_by="Dr Nobody", reviewed_on=date(2026, 1, 1)
    )
    version.refresh_from_db()
    assert not version.clinically_reviewed
    with pytest.raises(ServiceError):
        create(version)
    assert not ConsentSession.objects.exists()


def test_a_reviewed_version_is_reviewed_only_as_its_pack_says():
    version = reviewed_version()
    assert version.clinically_reviewed
    ProcedureVersion.objects.filter(pk=version.pk).update(reviewed_on=date(2026, 3, 2))
    version.refresh_from_db()
    assert not version.clinically_reviewed
