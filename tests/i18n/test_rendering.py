"""The pages in French: each page's template, rendered under translation.override("fr") with the
context its view gave, shows French labels and buttons and no English of the interface.

The pages are requested as a French reader would (the institution's language and the browser's
both French), so that what the views word themselves is French too; their template is then
rendered again under translation.override("fr") with the view's context, so that the check is on
the catalogue, whichever language a request ends up choosing.
"""

import html
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

from tests.factories import (
    MITRACLIP_PATH,
    attested_session,
    auditor,
    consent_session,
    decided_session,
    issue_link,
    logged_in,
    patient_client,
    physician,
    read_all_sections,
    reviewed_session,
    right_answer,
    submit,
)
from tests.i18n.catalogues import KEPT, catalogue, forms

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def french_institution(settings):
    settings.LANGUAGE_CODE = "fr"


def in_french(client: Client) -> Client:
    """This browser asks for French pages (Accept-Language)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr"
    return client


def french(response) -> str:
    """The response's page again, its template rendered in French with the view's context."""
    assert response.status_code == 200, response.status_code
    context = response.context[0] if isinstance(response.context, list) else response.context
    with translation.override("fr"):
        return render_to_string(
            response.templates[0].name, context.flatten(), request=response.wsgi_request
        )


def visible_text(page: str) -> str:
    """The words a reader sees (and what assistive technology reads: labels, alt, titles)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = re.findall(
        r'(?:aria-label|alt|title|placeholder|data-label-\w+|data-cannot-speak)="([^"]*)"', page
    )
    text = re.sub(r"<[^>]+>", " ", page)
    return " ".join(html.unescape(" ".join([text, *attributes])).split())  # fmt: skip


def template_english() -> list[str]:
    """The templates' English sentences that French says differently (placeholders left out)."""
    sentences = []
    for message in catalogue("fr"):
        if not any(path.startswith("templates/") for path, _line in message.locations):
            continue
        for english, french_text in forms(message):
            english = english.replace("%%", "%")
            if english != french_text and not KEPT.search(english) and " " in english.strip():
                sentences.append(english)
    return sentences


def content_text() -> str:
    """The procedure's own words (the English pack the factories import): content, not interface."""
    return " ".join(MITRACLIP_PATH.read_text(encoding="utf-8").split())


def assert_no_english(page: str) -> None:
    text = visible_text(page)
    content = content_text()
    left = [
        sentence
        for sentence in template_english()
        if re.search(rf"(?<!\w){re.escape(sentence)}(?!\w)", text) and sentence not in content
    ]
    assert left == [], left


@pytest.fixture
def session():
    return consent_session()


def test_the_start_page_in_french(session):
    page = french(in_french(patient_client(session)).get("/patient/start/"))
    assert "Comment cela se passe" in page
    assert "Commencer la lecture" in page
    assert "Enregistrer et quitter" in page
    assert "Poser une question à votre médecin" in page
    assert_no_english(page)


def test_the_date_of_birth_page_in_french(session):
    client = in_french(Client())
    client.get(issue_link(session))
    page = french(client.get("/patient/identity/"))
    assert "Confirmez votre date de naissance" in page
    assert ">Continuer<" in page
    assert "Jour" in page and "Mois" in page and "Année" in page
    assert_no_english(page)


def test_a_section_in_french_with_the_read_aloud_words_the_script_shows(session):
    page = french(in_french(patient_client(session)).get("/patient/section/2/"))
    total = session.procedure_version.sections.count()
    assert f"Section 2 sur {total}" in page
    assert ">Suivant<" in page and ">Retour<" in page
    # read-aloud.js takes its words from the page: they are French too.
    assert 'data-label-stop="Arrêter la lecture"' in page
    assert "Lire à voix haute" in page
    assert_no_english(page)


def test_a_question_and_its_result_in_french(session):
    client = in_french(patient_client(session))
    read_all_sections(client, session)
    question = session.procedure_version.questions.order_by("position").first()
    page = french(client.get(f"/patient/question/{question.position}/"))
    total = session.procedure_version.questions.count()
    assert f"Question {question.position} sur {total}" in page
    assert "Vérifier ma réponse" in page or "Envoyer ma réponse" in page
    assert_no_english(page)

    submit(client, question.position, right_answer(question))
    page = french(client.get(f"/patient/question/{question.position}/result/"))
    assert "C’est exact." in html.unescape(
        page
    ) or "Merci. Votre médecin lira votre réponse." in html.unescape(page)
    assert "Question suivante" in page
    assert_no_english(page)


def test_the_summary_and_the_decision_in_french():
    session = attested_session()
    client = in_french(patient_client(session))
    page = french(client.get("/patient/summary/"))
    assert "Votre résumé" in page and "Aller à votre décision" in page
    assert_no_english(page)

    page = html.unescape(french(client.get("/patient/decision/")))
    assert "Voulez-vous avoir cette intervention\u00a0?" in page  # French no-break space
    assert "Oui, j’accepte" in page and "Signer mon consentement" in page
    assert "Refuser l’intervention" in page
    assert "J’accepte librement l’intervention." in page  # a statement the patient ticks
    assert 'data-label-cleared="Le dessin a été effacé."' in page
    assert_no_english(page)


def test_the_decision_recorded_page_in_french():
    session = decided_session()
    page = html.unescape(french(in_french(patient_client(session)).get("/patient/decision/")))
    assert "Votre décision est enregistrée" in page
    assert "Vous avez accepté l’intervention." in page
    assert_no_english(page)


def test_the_physicians_dashboard_and_review_in_french():
    session = reviewed_session()
    client = in_french(logged_in(session.physician))
    page = french(client.get("/staff/"))
    assert "Sessions de consentement" in page and "Nouvelle session" in page
    assert_no_english(page)

    page = html.unescape(french(client.get(f"/staff/sessions/{session.public_id}/review/")))
    assert "Signer l’attestation" in page
    assert "L’entretien en personne" in page
    assert_no_english(page)


def test_the_session_form_and_its_labels_in_french():
    client = in_french(logged_in(physician()))
    page = french(client.get("/staff/sessions/new/"))
    assert "Nouvelle session de consentement" in page
    assert "Médecin responsable" in page
    assert "Créer la session de consentement" in page
    assert_no_english(page)


def test_the_auditors_records_list_in_french():
    consent_session()
    page = french(in_french(logged_in(auditor())).get("/audit/"))
    assert "Dossiers de consentement" in page
    assert "Exporter cette liste (CSV)" in page
    assert "Filtrer les dossiers" in page
    assert_no_english(page)


def test_the_staff_log_in_page_in_french():
    page = french(in_french(Client()).get("/accounts/login/"))
    assert "Connexion du personnel" in page and "Se connecter" in page
    assert_no_english(page)


def test_the_english_check_finds_english_left_in_a_page():
    with pytest.raises(AssertionError):
        assert_no_english("<main><button>Save and leave</button></main>")
    assert_no_english("<main><button>Enregistrer et quitter</button></main>")


def test_the_content_editors_workbench_in_french():
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consent.models import PackDraft
    from tests.workbench import changed_pack, content_editor

    client = in_french(logged_in(content_editor()))
    page = french(client.get("/authoring/"))
    assert "Téléverser un paquet de contenu" in page and "Téléverser et vérifier" in page
    assert_no_english(page)

    pack = SimpleUploadedFile("mitraclip.en.toml", changed_pack(errors=True).encode("utf-8"))
    client.post("/authoring/", {"file": pack})
    draft = PackDraft.objects.latest("pk")
    page = html.unescape(french(client.get(f"/authoring/drafts/{draft.pk}/")))
    assert "2 erreurs à corriger" in page and "Téléverser le fichier corrigé" in page
    assert_no_english(page)
    page = french(client.get(f"/authoring/drafts/{draft.pk}/readability/"))
    assert "Niveau de lecture, section par section" in page
    assert_no_english(page)
