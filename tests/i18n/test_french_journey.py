"""A French consent session through the test client: every patient page comes out in French,
content and interface alike, with lang="fr" and no English sentence of the interface."""

import html
import re
from pathlib import Path

import pytest
from django.conf import settings

from consent.content.importing import pack_import
from consent.content.packs import load_pack
from consent.models import Signature
from consent.services import signatures
from tests.factories import (
    attested_session,
    consent_session,
    mitraclip_version,
    patient_client,
    read_all_sections,
    right_answer,
    submit,
)
from tests.i18n.catalogues import KEPT, catalogue, forms
from tests.i18n.test_rendering import visible_text

pytestmark = pytest.mark.django_db

FRENCH_PACK = Path(settings.BASE_DIR) / "content" / "mitraclip.fr.toml"
# The attestation the physician signed, quoted to the patient word for word as it was signed:
# in the institution's language (English here), not the patient's.
PHYSICIAN_SIGNED = [
    str(signatures.ATTESTATION_STATEMENT),
    str(signatures.MEANINGS[Signature.Kind.ATTESTATION]),
]


@pytest.fixture
def french_version():
    """The shipped French MitraClip pack, imported after the English text it translates."""
    mitraclip_version()
    return pack_import(packs=[load_pack(FRENCH_PACK)])[0].version


def interface_english() -> list[str]:
    """Every English sentence of the interface (templates and code) that French words otherwise."""
    sentences = []
    for message in catalogue("fr"):
        for english, french in forms(message):
            english = english.replace("%%", "%")
            if english != french and not KEPT.search(english) and " " in english.strip():
                sentences.append(english)
    return sentences


def french_page(response) -> str:
    assert response.status_code == 200, response.status_code
    page = response.content.decode()
    assert re.search(r'<html lang="fr"', page), page[:200]
    text = visible_text(page)
    for statement in PHYSICIAN_SIGNED:
        text = text.replace(statement, "")
    left = [s for s in interface_english() if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", text)]
    assert left == [], left
    return html.unescape(page)


def test_the_patient_pages_of_a_french_session_are_french(french_version):
    session = consent_session(version=french_version)
    client = patient_client(session)
    page = french_page(client.get("/patient/start/"))
    assert "Commencer la lecture" in page
    page = french_page(client.get("/patient/section/1/"))
    assert "Suivant" in page and "Lire à voix haute" in page
    read_all_sections(client, session)
    question = session.procedure_version.questions.order_by("position").first()
    page = french_page(client.get(f"/patient/question/{question.position}/"))
    assert f"Question {question.position} sur" in page
    submit(client, question.position, right_answer(question))
    page = french_page(client.get(f"/patient/question/{question.position}/result/"))
    assert "Question suivante" in page


def test_the_decision_pages_of_a_french_session_are_french(french_version):
    client = patient_client(attested_session(version=french_version))
    page = french_page(client.get("/patient/summary/"))
    assert "Aller à votre décision" in page
    page = french_page(client.get("/patient/decision/"))
    assert "Signer mon consentement" in page and "Refuser l’intervention" in page


def test_a_french_patient_signs_in_french_and_reads_their_decision_in_french(french_version):
    client = patient_client(attested_session(version=french_version))
    response = client.post(
        "/patient/decision/",
        {"statements": ["0", "1", "2"], "typed_name": "Jeanne Testpatient", "signature": ""},
    )
    assert response.status_code == 302, response.status_code
    page = french_page(client.get("/patient/decision/"))
    assert "Votre décision est enregistrée" in page
    assert "Vous avez accepté l’intervention." in page
    # What the patient signed is stored as they read it: in French.
    signature = Signature.objects.get(kind=Signature.Kind.PATIENT_CONSENT)
    assert "J’accepte librement l’intervention." in signature.statement
