"""The HL7 FHIR R4 export of one finalized consent record (docs/fhir-export.md).

`record_fhir_bundle` turns a finalized record into a Bundle of type `collection`: the Patient,
the responsible Practitioner, the institution's Organization, the Consent, the Questionnaire and
the QuestionnaireResponse that answers it, a DocumentReference to the sealed PDF, and a
Provenance with one agent and one signature per signature of the record.

It reads the STORED canonical record (`ConsentRecord.record_json`, checked against
`record_sha256` first), never the live tables: after finalization the record is the one source,
so a row changed behind the application's back cannot change what is exported. What is not
part of the record comes from the tables: the withdrawal addendum's date and the physician's
user name. It is a pure read: the same record gives the same bundle, byte for byte (ids are
UUID 5 derived from the session's public id; every time is a stored one, never "now").
"""

import base64
import hashlib
import uuid
from html import escape
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consent.canonical import canonical_bytes
from consent.languages import language_label
from consent.models import Addendum, ConsentRecord, ConsentSession, Signature
from consent.record.canonical import SNAPSHOT_KEYS
from consent.rules import Decision
from consent.selectors.records import StoredRecordChanged, record_document_get
from consent.selectors.session import person_name, utc_text

# The media type of FHIR JSON: what a view serving the bundle answers with.
FHIR_JSON_CONTENT_TYPE = "application/fhir+json"

# Code systems defined by HL7, LOINC and ASTM.
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
LOINC_SYSTEM = "http://loinc.org"
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
SIGNATURE_TYPE_SYSTEM = "urn:iso-astm:E1762-95:2013"
PARTICIPANT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/contractsignertypecodes"
DATA_OPERATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
# The LOINC code of a patient consent document: the Consent's category, the document's type.
CONSENT_DOCUMENT_LOINC = ("59284-0", "Patient Consent")
XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
# Languages as codes: BCP 47 tags, the code system FHIR's `language` elements use.
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"

# Our own identifier and code systems, each under the institution's base URL.
RECORD_ID_PATH = "/fhir/sid/consent-record-id"
RECORD_PDF_SHA256_PATH = "/fhir/sid/consent-record-pdf-sha256"
RECORD_JSON_SHA256_PATH = "/fhir/sid/consent-record-json-sha256"
ADDENDUM_ID_PATH = "/fhir/sid/consent-addendum-id"
PATIENT_RECORD_NUMBER_PATH = "/fhir/sid/patient-record-number"
STAFF_USERNAME_PATH = "/fhir/sid/staff-username"
PROCEDURE_PATH = "/fhir/CodeSystem/procedure"
OUTCOME_PATH = "/fhir/CodeSystem/teach-back-outcome"
QUESTIONNAIRE_PATH = "/fhir/Questionnaire/"

Kind = Signature.Kind

# The purpose of each signature (ASTM E1762-95, FHIR's Signature Type Codes). A refusal is the
# patient's own statement, signed as its author: a "consent signature" would misstate it.
SIGNATURE_PURPOSES: dict[str, tuple[str, str]] = {
    Kind.PATIENT_CONSENT: ("1.2.840.10065.1.12.1.7", "Consent Signature"),
    Kind.PATIENT_REFUSAL: ("1.2.840.10065.1.12.1.1", "Author's Signature"),
    Kind.ATTESTATION: ("1.2.840.10065.1.12.1.5", "Verification Signature"),
    # E1762: the attending physician who signs to validate an entry for the patient record.
    Kind.COUNTERSIGNATURE: ("1.2.840.10065.1.12.1.6", "Validation Signature"),
    Kind.INTERPRETER: ("1.2.840.10065.1.12.1.12", "Interpreter Signature"),
    Kind.WITNESS: ("1.2.840.10065.1.12.1.8", "Signature Witness Signature"),
}
# Provenance.agent.type where the provenance participant types have a fitting code; the
# interpreter and the witness have none there, and are told apart by their role alone.
AGENT_TYPES: dict[str, tuple[str, str]] = {
    Kind.PATIENT_CONSENT: ("author", "Author"),
    Kind.PATIENT_REFUSAL: ("author", "Author"),
    Kind.ATTESTATION: ("verifier", "Verifier"),
    Kind.COUNTERSIGNATURE: ("legal", "Legal Authenticator"),
}
AGENT_ROLES: dict[str, tuple[str, str]] = {
    Kind.PATIENT_CONSENT: ("CONSENTER", "Consenter"),
    Kind.PATIENT_REFUSAL: ("PAT", "Patient"),
    Kind.ATTESTATION: ("VERF", "Verifier"),
    Kind.COUNTERSIGNATURE: ("LEGAUTHN", "Legal Authenticator"),
    Kind.INTERPRETER: ("INTPRT", "Interpreter"),
    Kind.WITNESS: ("WIT", "Witness"),
}
PATIENT_KINDS = {Kind.PATIENT_CONSENT, Kind.PATIENT_REFUSAL}
# Only the responsible physician may attest and countersign (services.check_responsible).
PHYSICIAN_KINDS = {Kind.ATTESTATION, Kind.COUNTERSIGNATURE}

ERROR_PDF_CHANGED = "the stored PDF of record {record_id} no longer matches its SHA-256"
ERROR_RECORD_CHANGED = "the stored record data of {record_id} no longer matches its SHA-256"
ERROR_UNDECIDED = "record {record_id} holds no decision of the patient"


class FhirExportError(Exception):
    """The record cannot be exported as it stands (its stored PDF or data changed, no decision)."""


def record_fhir_bundle(record: ConsentRecord, *, base_url: str) -> dict[str, Any]:
    """The finalized record as a FHIR R4 Bundle (type collection), ready for `json.dumps`.

    `base_url` is the institution's stable public origin (`settings.SITE_URL`): it makes the
    PDF's address and the namespaces of our identifiers and codes. Labels are in the record's
    language (`LANGUAGE_CODE`, as in the PDF), whatever language the request is in.
    """
    try:
        document = record_document_get(record=record)
    except StoredRecordChanged as error:
        raise FhirExportError(ERROR_RECORD_CHANGED.format(record_id=record.record_id)) from error
    pdf = _stored_pdf(record)
    session = ConsentSession.objects.select_related("physician").get(pk=record.session_id)
    # Addenda come after the record and are not part of it: read from their table.
    withdrawal = (
        Addendum.objects.filter(record=record, kind=Addendum.Kind.WITHDRAWAL)
        .order_by("created_at", "pk")
        .first()
    )
    # A withdrawal ends a consent that was given; a refusal has nothing to withdraw.
    consented = document["decision"]["outcome"] == Decision.CONSENTED
    withdrawn_at = utc_text(withdrawal.created_at) if withdrawal and consented else None
    export = _Export(record, session, document, base_url.rstrip("/"))
    with translation.override(settings.LANGUAGE_CODE):
        resources = [
            export.patient(),
            export.practitioner(),
            export.organization(),
            export.related_person(),
            export.consent(pdf, withdrawn_at),
            export.document_reference(pdf),
            export.questionnaire(),
            export.questionnaire_response(),
            export.provenance(),
        ]
        # Each sealed addendum: its own document, and the Provenance of the change it made.
        for addendum in Addendum.objects.filter(record=record).exclude(addendum_id=None):
            resources += [
                export.addendum_document_reference(addendum),
                export.addendum_provenance(addendum),
            ]
    # ISO 8601 times in UTC with whole seconds: compared as text, in time order.
    last_change = max(moment for moment in (document["finalized_at"], withdrawn_at) if moment)
    bundle = {
        "resourceType": "Bundle",
        "id": export.id("Bundle"),
        "type": "collection",
        "timestamp": last_change,
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
            if resource is not None  # no RelatedPerson where the patient signed
        ],
    }
    return _pruned(bundle)


def _stored_pdf(record: ConsentRecord) -> bytes:
    """The PDF exactly as stored, refused when it no longer is the PDF that was finalized."""
    with record.pdf.open("rb") as stored:
        pdf = stored.read()
    if hashlib.sha256(pdf).hexdigest() != record.pdf_sha256:
        raise FhirExportError(ERROR_PDF_CHANGED.format(record_id=record.record_id))
    return pdf


def _narrative(*lines: str, language: str = "") -> dict[str, str]:
    """A generated narrative: escaped text in paragraphs, the XHTML FHIR allows (txt-1, txt-2).

    Its language is the institution's (the labels'); `language` says so on the div where the
    resource's own is another (a patient's questions and answers in French)."""
    body = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    lang = f' lang="{language}" xml:lang="{language}"' if language else ""
    return {"status": "generated", "div": f'<div xmlns="{XHTML_NAMESPACE}"{lang}>{body}</div>'}


def _attachment(pdf: bytes, url: str, record: ConsentRecord, language: str) -> dict[str, Any]:
    """The sealed PDF by address, size and hash (its bytes stay behind the access control),
    and the language the patient read and signed it in."""
    return {
        "contentType": "application/pdf",
        "language": language,
        "url": url,
        "size": len(pdf),
        # FHIR R4 Attachment.hash: the SHA-1 of the data, in base64.
        "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324
        "title": record.record_id,
        "creation": utc_text(record.finalized_at),
    }


class _Export:
    """The resources of one record's bundle, each built from the stored record."""

    def __init__(
        self,
        record: ConsentRecord,
        session: ConsentSession,
        document: dict[str, Any],
        base_url: str,
    ) -> None:
        self.record = record
        self.session = session
        self.document = document
        self.base_url = base_url

    def id(self, resource_type: str) -> str:
        return str(uuid.uuid5(self.session.public_id, resource_type))

    def url(self, resource_type: str) -> str:
        return f"urn:uuid:{self.id(resource_type)}"

    def reference(self, resource_type: str) -> dict[str, str]:
        return {"reference": self.url(resource_type)}

    def system(self, path: str) -> str:
        return self.base_url + path

    @property
    def procedure(self) -> dict[str, Any]:
        return dict(self.document["procedure"])

    @property
    def institution(self) -> str:
        return str(self.document["institution"])

    @property
    def language(self) -> dict[str, str]:
        """The language the patient was shown: the record's `language`, or, in a record made
        before it stated one, its procedure's."""
        stated = self.document.get("language")
        if isinstance(stated, dict) and stated.get("code"):
            return {"code": str(stated["code"]), "name": str(stated.get("name") or "")}
        code = str(self.procedure["language"])
        return {"code": code, "name": language_label(code)}

    def questionnaire_url(self) -> str:
        procedure = self.procedure
        return f"{self.system(QUESTIONNAIRE_PATH)}{procedure['slug']}-{procedure['language']}"

    def patient(self) -> dict[str, Any]:
        patient = self.document["patient"]
        return {
            "resourceType": "Patient",
            "id": self.id("Patient"),
            "text": _narrative(
                _("Patient: %(name)s, born %(birth)s")
                % {"name": patient["name"], "birth": patient["birth_date"]}
            ),
            "identifier": [
                {
                    "use": "usual",
                    "type": _concept(IDENTIFIER_TYPE_SYSTEM, "MR", "Medical record number"),
                    "system": self.system(PATIENT_RECORD_NUMBER_PATH),
                    "value": patient["record_number"],
                }
                if patient["record_number"]
                else None
            ],
            # One field as the patient's name was entered: never split into given and family.
            "name": [{"text": patient["name"]}],
            "birthDate": patient["birth_date"],
            # The language the patient read the procedure and signed in.
            "communication": [
                {
                    "language": {
                        "coding": [
                            {
                                "system": LANGUAGE_SYSTEM,
                                "code": self.language["code"],
                                "display": self.language["name"],
                            }
                        ],
                        "text": self.language["name"],
                    },
                    "preferred": True,
                }
            ],
        }

    def practitioner(self) -> dict[str, Any]:
        name = self.document["physician"]
        return {
            "resourceType": "Practitioner",
            "id": self.id("Practitioner"),
            "text": _narrative(_("Responsible physician: %(name)s") % {"name": name}),
            # The account is not part of the record: its user name identifies the physician.
            "identifier": [
                {
                    "use": "usual",
                    "system": self.system(STAFF_USERNAME_PATH),
                    "value": self.session.physician.get_username(),
                }
            ],
            # The name as the record holds it, one text (the record does not split it).
            "name": [{"text": name}],
        }

    def organization(self) -> dict[str, Any]:
        return {
            "resourceType": "Organization",
            "id": self.id("Organization"),
            "text": _narrative(self.institution),
            "name": self.institution,
        }

    def consent(self, pdf: bytes, withdrawn_at: str | None) -> dict[str, Any]:
        decision = self.document["decision"]
        procedure = self.procedure
        if decision["outcome"] == Decision.CONSENTED:
            status = "inactive" if withdrawn_at else "active"
            provision_type = "permit"
            period = {"start": decision["decided_at"], "end": withdrawn_at}
            summary = (
                _("Consent given to %(procedure)s on %(date)s, withdrawn on %(end)s.")
                if withdrawn_at
                else _("Consent given to %(procedure)s on %(date)s.")
            )
        elif decision["outcome"] == Decision.DECLINED:
            status, provision_type, period = "rejected", "deny", None
            summary = _("The patient declined %(procedure)s on %(date)s (informed refusal).")
        else:
            raise FhirExportError(ERROR_UNDECIDED.format(record_id=self.record.record_id))
        record = self.record
        pdf_path = reverse("audit:record_pdf", args=[self.session.public_id])
        return {
            "resourceType": "Consent",
            "id": self.id("Consent"),
            # Its words are the institution's; the document it rests on (sourceAttachment) says
            # the language the patient read and signed in, as does the Patient.
            "language": settings.LANGUAGE_CODE,
            "text": _narrative(
                summary
                % {
                    "procedure": procedure["title"],
                    "date": decision["decided_at"],
                    "end": withdrawn_at,
                },
                _("Record %(record_id)s.") % {"record_id": record.record_id},
            ),
            "identifier": [
                {
                    "use": "official",
                    "system": self.system(RECORD_ID_PATH),
                    "value": record.record_id,
                },
                {
                    "use": "secondary",
                    "system": self.system(RECORD_PDF_SHA256_PATH),
                    "value": record.pdf_sha256,
                },
                {
                    "use": "secondary",
                    "system": self.system(RECORD_JSON_SHA256_PATH),
                    "value": record.record_sha256,
                },
            ],
            "status": status,
            "scope": _concept(CONSENT_SCOPE_SYSTEM, "treatment", "Treatment"),
            "category": [_concept(LOINC_SYSTEM, *CONSENT_DOCUMENT_LOINC)],
            "patient": self.reference("Patient"),
            "dateTime": self.document["finalized_at"],
            # Who decided: the patient, or the legal representative who signed for them.
            "performer": [self.reference("RelatedPerson" if self._representative() else "Patient")],
            "organization": [self.reference("Organization")],
            "sourceAttachment": _attachment(
                pdf, self.base_url + pdf_path, record, self.language["code"]
            ),
            # ppc-1 asks for a policy or a policy rule; no HL7 policy code names a treatment
            # consent, and the binding is extensible, so the rule is said in words.
            "policyRule": {
                "text": _("Informed consent to a procedure, under the consent policy of %(name)s")
                % {"name": self.institution}
            },
            "provision": {
                "type": provision_type,
                "period": period,
                "code": [
                    {
                        "coding": [
                            {
                                "system": self.system(PROCEDURE_PATH),
                                "code": procedure["slug"],
                                "display": procedure["title"],
                            }
                        ],
                        "text": procedure["title"],
                    }
                ],
            },
        }

    def _representative(self) -> dict[str, Any] | None:
        """The patient's decision signature when a legal representative made it (records made
        before representatives were recorded have no such fields: the patient signed)."""
        return next(
            (
                signature
                for signature in self.document["signatures"]
                if signature["kind"] in PATIENT_KINDS and signature.get("representative_name")
            ),
            None,
        )

    def related_person(self) -> dict[str, Any] | None:
        """The legal representative who signed the decision for the patient, if one did."""
        signature = self._representative()
        if signature is None:
            return None
        name, relationship = (
            signature["representative_name"],
            signature.get("representative_relationship", ""),
        )
        return {
            "resourceType": "RelatedPerson",
            "id": self.id("RelatedPerson"),
            "text": _narrative(
                _("The patient's legal representative: %(name)s (%(relationship)s)")
                % {"name": name, "relationship": relationship}
            ),
            "patient": self.reference("Patient"),
            # The relationship in the signer's own words: no code is guessed from them.
            "relationship": [{"text": relationship}],
            "name": [{"text": name}],
        }

    def document_reference(self, pdf: bytes) -> dict[str, Any]:
        """The sealed PDF/A record itself: the legal document the Consent rests on."""
        record = self.record
        pdf_path = reverse("audit:record_pdf", args=[self.session.public_id])
        return {
            "resourceType": "DocumentReference",
            "id": self.id("DocumentReference"),
            "language": settings.LANGUAGE_CODE,
            "text": _narrative(
                _("Sealed consent record %(record_id)s (PDF, %(size)s bytes).")
                % {"record_id": record.record_id, "size": len(pdf)}
            ),
            "masterIdentifier": {"system": self.system(RECORD_ID_PATH), "value": record.record_id},
            "identifier": [
                {
                    "use": "secondary",
                    "system": self.system(RECORD_PDF_SHA256_PATH),
                    "value": record.pdf_sha256,
                }
            ],
            # The document stays the current record after a withdrawal: the addendum adds to
            # it, and the Consent's status says what holds now.
            "status": "current",
            "docStatus": "final",
            "type": _concept(LOINC_SYSTEM, *CONSENT_DOCUMENT_LOINC),
            "subject": self.reference("Patient"),
            "date": self.document["finalized_at"],
            "author": [self.reference("Practitioner")],
            "authenticator": self.reference("Organization"),
            "custodian": self.reference("Organization"),
            "description": _("Signed and sealed informed-consent record (PDF/A-3b)"),
            "content": [
                {
                    "attachment": _attachment(
                        pdf, self.base_url + pdf_path, record, self.language["code"]
                    )
                }
            ],
            "context": {"related": [self.reference("Consent")]},
        }

    def questionnaire(self) -> dict[str, Any]:
        """The teach-back questions the response answers, one linkId per item (que-2)."""
        procedure = self.procedure
        return {
            "resourceType": "Questionnaire",
            "id": self.id("Questionnaire"),
            # The questions as the patient read them, in their language.
            "language": self.language["code"],
            "text": _narrative(
                _("Teach-back questions of %(title)s, version %(version)s (%(language)s).")
                % {
                    "title": procedure["title"],
                    "version": procedure["version"],
                    "language": procedure["language"],
                },
                language=settings.LANGUAGE_CODE,
            ),
            "url": self.questionnaire_url(),
            "version": procedure["version"],
            "title": procedure["title"],
            # It describes what the patient was asked, as asked: not a form to be filled again.
            "status": "active",
            "subjectType": ["Patient"],
            "item": [self._question_definition(q) for q in self.document["questions"]],
        }

    def _question_definition(self, question: dict[str, Any]) -> dict[str, Any]:
        key = question["key"]
        attempt_parts = [
            {"linkId": f"{key}.attempt.round", "text": _("Round"), "type": "integer"},
            {"linkId": f"{key}.attempt.answer", "text": _("Answer"), "type": "string"},
            {"linkId": f"{key}.attempt.correct", "text": _("Correct"), "type": "boolean"},
            {"linkId": f"{key}.attempt.answered-at", "text": _("Answered at"), "type": "dateTime"},
        ]
        items: list[dict[str, Any]] = [
            {"linkId": f"{key}.outcome", "text": _("Outcome"), "type": "choice"},
            {
                "linkId": f"{key}.attempt",
                "text": _("Attempt"),
                "type": "group",
                "repeats": True,
                "item": attempt_parts,
            },
        ]
        if _key_points(question):
            items.append(
                {
                    "linkId": f"{key}.key-point",
                    "text": _("Key point covered"),
                    "type": "boolean",
                    "repeats": True,
                }
            )
        return {"linkId": key, "text": question["prompt"], "type": "group", "item": items}

    def questionnaire_response(self) -> dict[str, Any]:
        procedure = self.procedure
        questions = self.document["questions"]
        answered = [
            attempt["answered_at"]
            for question in questions
            for attempt in question["attempts"]
            if attempt["answered_at"]
        ]
        return {
            "resourceType": "QuestionnaireResponse",
            "id": self.id("QuestionnaireResponse"),
            # The questions and the patient's answers as they were given, in their language.
            "language": self.language["code"],
            "text": _narrative(
                _("Teach-back answers to %(count)s questions of %(title)s.")
                % {"count": len(questions), "title": procedure["title"]},
                *(f"{q['prompt']}: {q['outcome_label']}" for q in questions),
                language=settings.LANGUAGE_CODE,
            ),
            # The pinned pack version, as a versioned canonical: the Questionnaire in the bundle.
            "questionnaire": f"{self.questionnaire_url()}|{procedure['version']}",
            "status": "completed",
            "subject": self.reference("Patient"),
            "authored": max(answered) if answered else self.document["finalized_at"],
            "source": self.reference("Patient"),
            "item": [self._question_item(question) for question in questions],
        }

    def _question_item(self, question: dict[str, Any]) -> dict[str, Any]:
        key = question["key"]
        children: list[dict[str, Any]] = [
            {
                "linkId": f"{key}.outcome",
                "text": _("Outcome"),
                "answer": [
                    {
                        "valueCoding": {
                            "system": self.system(OUTCOME_PATH),
                            "code": question["outcome"],
                            "display": question["outcome_label"],
                        }
                    }
                ],
            }
        ]
        for attempt in question["attempts"]:
            parts = [
                _answered(f"{key}.attempt.round", _("Round"), valueInteger=attempt["round"]),
                _answered(f"{key}.attempt.answer", _("Answer"), valueString=attempt["answer"]),
            ]
            if attempt["correct"] is not None:  # free text is assessed, never graded
                parts.append(
                    _answered(
                        f"{key}.attempt.correct", _("Correct"), valueBoolean=attempt["correct"]
                    )
                )
            parts.append(
                _answered(
                    f"{key}.attempt.answered-at",
                    _("Answered at"),
                    valueDateTime=attempt["answered_at"],
                )
            )
            children.append({"linkId": f"{key}.attempt", "text": _("Attempt"), "item": parts})
        # The physician's assessment of an answer in the patient's own words.
        children.extend(
            _answered(f"{key}.key-point", point["text"], valueBoolean=point["covered"])
            for point in _key_points(question)
        )
        return {"linkId": key, "text": question["prompt"], "item": children}

    def provenance(self) -> dict[str, Any]:
        agents, entries = [], []
        snapshot_sha256 = self._snapshot_sha256()
        for signature in self.document["signatures"]:
            kind = signature["kind"]
            who = self._signer(signature)
            agent_type = AGENT_TYPES.get(kind)
            # A representative signs on the patient's behalf.
            on_behalf = self.reference("Patient") if _by_representative(signature) else None
            agents.append(
                {
                    "type": _concept(PARTICIPANT_TYPE_SYSTEM, *agent_type) if agent_type else None,
                    "role": [_concept(SIGNER_TYPE_SYSTEM, *AGENT_ROLES[kind])],
                    "who": who,
                    "onBehalfOf": on_behalf,
                }
            )
            code, display = SIGNATURE_PURPOSES[kind]
            image = signature["image_png_base64"]
            entries.append(
                {
                    "type": [{"system": SIGNATURE_TYPE_SYSTEM, "code": code, "display": display}],
                    "when": signature["signed_at"],
                    "who": who,
                    "onBehalfOf": on_behalf,
                    "sigFormat": "image/png" if image else "application/json",
                    "data": image
                    or base64.b64encode(_manifestation(signature, snapshot_sha256)).decode(),
                }
            )
        return {
            "resourceType": "Provenance",
            "id": self.id("Provenance"),
            "text": _narrative(
                *(_signature_line(signature) for signature in self.document["signatures"])
            ),
            "target": [self.reference("Consent"), self.reference("QuestionnaireResponse")],
            "occurredPeriod": {
                "start": self.document["created_at"],
                "end": self.document["finalized_at"],
            },
            "recorded": self.document["finalized_at"],
            "activity": _concept(DATA_OPERATION_SYSTEM, "CREATE", "create"),
            "agent": agents,
            "signature": entries,
        }

    def addendum_document_reference(self, addendum: Addendum) -> dict[str, Any]:
        """An addendum's sealed PDF/A: a document of its own that appends to the record's."""
        key = f"DocumentReference/{addendum.addendum_id}"
        pdf_path = reverse(
            "audit:addendum_pdf", args=[self.session.public_id, addendum.addendum_id]
        )
        return {
            "resourceType": "DocumentReference",
            "id": self.id(key),
            "text": _narrative(
                _("Sealed addendum %(id)s to consent record %(record_id)s: %(kind)s.")
                % {
                    "id": addendum.addendum_id,
                    "record_id": self.record.record_id,
                    "kind": addendum.get_kind_display(),
                }
            ),
            "masterIdentifier": {
                "system": self.system(ADDENDUM_ID_PATH),
                "value": addendum.addendum_id,
            },
            "identifier": [
                {
                    "use": "secondary",
                    "system": self.system(RECORD_PDF_SHA256_PATH),
                    "value": addendum.pdf_sha256,
                }
            ],
            "status": "current",
            "docStatus": "final",
            "type": _concept(LOINC_SYSTEM, *CONSENT_DOCUMENT_LOINC),
            "subject": self.reference("Patient"),
            "date": utc_text(addendum.created_at),
            "author": [self.reference("Practitioner")],
            "authenticator": self.reference("Organization"),
            "custodian": self.reference("Organization"),
            # The record stays; the addendum appends to it (relatesTo "appends").
            "relatesTo": [{"code": "appends", "target": self.reference("DocumentReference")}],
            "description": str(addendum.get_kind_display()),
            "content": [
                {
                    "attachment": {
                        "contentType": "application/pdf",
                        "language": self.language["code"],
                        "url": self.base_url + pdf_path,
                        "size": addendum.pdf_size,
                        "title": addendum.addendum_id,
                        "creation": utc_text(addendum.created_at),
                    }
                }
            ],
            "context": {"related": [self.reference("Consent")]},
        }

    def addendum_provenance(self, addendum: Addendum) -> dict[str, Any]:
        """Who changed the consent's standing, when, and how they signed: a withdrawal nullifies
        the consent, a correction revises the record."""
        withdrawal = addendum.kind == Addendum.Kind.WITHDRAWAL
        when = utc_text(addendum.created_at)
        physician = person_name(addendum.created_by)
        agents: list[dict[str, Any]] = [
            {
                "type": _concept(PARTICIPANT_TYPE_SYSTEM, "author", "Author"),
                "who": {**self.reference("Practitioner"), "display": physician},
            }
        ]
        manifestation = canonical_bytes(
            {
                "addendum_id": addendum.addendum_id,
                "addendum_sha256": addendum.addendum_sha256,
                "kind": addendum.kind,
                "method": "password",
                "printed_name": physician,
                "signed_at": when,
            }
        )
        entries = [
            {
                "type": [
                    {
                        "system": SIGNATURE_TYPE_SYSTEM,
                        "code": "1.2.840.10065.1.12.1.1",
                        "display": "Author's Signature",
                    }
                ],
                "when": when,
                "who": {**self.reference("Practitioner"), "display": physician},
                "sigFormat": "application/json",
                "data": base64.b64encode(manifestation).decode("ascii"),
            }
        ]
        if addendum.patient_printed_name:
            patient = {**self.reference("Patient"), "display": addendum.patient_printed_name}
            agents.append(
                {"role": [_concept(SIGNER_TYPE_SYSTEM, "PAT", "Patient")], "who": patient}
            )
            image = bytes(addendum.patient_signature_image or b"")
            entries.append(
                {
                    "type": [
                        {
                            "system": SIGNATURE_TYPE_SYSTEM,
                            "code": "1.2.840.10065.1.12.1.1",
                            "display": "Author's Signature",
                        }
                    ],
                    "when": utc_text(addendum.patient_signed_at or addendum.created_at),
                    "who": patient,
                    "sigFormat": "image/png" if image else "application/json",
                    "data": base64.b64encode(
                        image
                        or canonical_bytes(
                            {"printed_name": addendum.patient_printed_name, "signed_at": when}
                        )
                    ).decode("ascii"),
                }
            )
        key = f"Provenance/{addendum.addendum_id}"
        return {
            "resourceType": "Provenance",
            "id": self.id(key),
            "text": _narrative(
                _("%(kind)s %(id)s by %(name)s on %(when)s.")
                % {
                    "kind": addendum.get_kind_display(),
                    "id": addendum.addendum_id,
                    "name": physician,
                    "when": when,
                }
            ),
            "target": [
                self.reference("Consent"),
                self.reference(f"DocumentReference/{addendum.addendum_id}"),
            ],
            "recorded": when,
            "activity": (
                _concept(DATA_OPERATION_SYSTEM, "NULLIFY", "nullify")
                if withdrawal
                else _concept(DATA_OPERATION_SYSTEM, "UPDATE", "revise")
            ),
            "agent": agents,
            "signature": entries,
        }

    def _snapshot_sha256(self) -> str:
        """The evidence hash every signature vouched for: finalization refuses unless each
        signature's stored hash equals the snapshot of the record being made, so the stored
        record gives it back."""
        snapshot = {key: self.document[key] for key in SNAPSHOT_KEYS}
        return hashlib.sha256(canonical_bytes(snapshot)).hexdigest()

    def _signer(self, signature: dict[str, Any]) -> dict[str, str]:
        """The patient and the physician by reference; an interpreter or a witness by name."""
        if _by_representative(signature):
            return {**self.reference("RelatedPerson"), "display": signature["printed_name"]}
        if signature["kind"] in PATIENT_KINDS:
            return {**self.reference("Patient"), "display": signature["printed_name"]}
        if signature["kind"] in PHYSICIAN_KINDS:
            return {**self.reference("Practitioner"), "display": signature["printed_name"]}
        return {"display": signature["printed_name"]}


def _by_representative(signature: dict[str, Any]) -> bool:
    return signature["kind"] in PATIENT_KINDS and bool(signature.get("representative_name"))


def _signature_line(signature: dict[str, Any]) -> str:
    """One signature in the Provenance's narrative, with who signed for the patient and the
    flag of a patient signature made beside a staff log-in."""
    line = _("%(kind)s: %(name)s, %(when)s") % {
        "kind": signature["kind_label"],
        "name": signature["printed_name"],
        "when": signature["signed_at"],
    }
    if _by_representative(signature):
        line += " " + _("(the patient's legal representative: %(relationship)s)") % {
            "relationship": signature.get("representative_relationship", "")
        }
    if signature.get("staff_browser"):
        line += " " + _(
            "Warning: signed in a browser where a staff account (%(user)s) was logged in."
        ) % {"user": signature.get("staff_browser_user", "")}
    return line


def _manifestation(signature: dict[str, Any], snapshot_sha256: str) -> bytes:
    """A typed or password signature as data: its manifestation (21 CFR 11.50) and the SHA-256
    of the evidence snapshot it vouched for, as canonical JSON."""
    return canonical_bytes(
        {
            "kind": signature["kind"],
            "meaning": signature["meaning"],
            "method": signature["method"],
            "printed_name": signature["printed_name"],
            "signed_at": signature["signed_at"],
            "snapshot_sha256": snapshot_sha256,
        }
    )


def _key_points(question: dict[str, Any]) -> list[dict[str, Any]]:
    review = question["review"]
    return list(review["key_points"]) if review else []


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _answered(link_id: str, text: str, **value: Any) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "answer": [value]}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _pruned(value: Any) -> Any:
    """Drop absent and empty values: FHIR JSON has no nulls, empty strings or empty arrays."""
    if isinstance(value, dict):
        pruned = {key: _pruned(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if not _empty(item)}
    if isinstance(value, list):
        return [item for item in (_pruned(item) for item in value) if not _empty(item)]
    return value
