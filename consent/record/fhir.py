"""The HL7 FHIR R4 export of one finalized consent record (docs/fhir-export.md).

`record_fhir_bundle` turns a finalized record into a Bundle of type `collection`: the Patient,
the responsible Practitioner, the institution's Organization, the Consent (which carries the
record's PDF as its source attachment), the teach-back answers as a QuestionnaireResponse, and a
Provenance with one agent and one signature per stored signature.

It is a pure read: the same record gives the same bundle, byte for byte, every time (ids are
UUID 5 derived from the session's public id; every time is the stored one, never "now"). It
reads the session's one read model (`consent.selectors.session.record_data_get`), so its
query count does not depend on how many questions, attempts or signatures the record holds.
"""

import base64
import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from consent.canonical import canonical_bytes
from consent.models import Addendum, ConsentRecord, ConsentSession, Signature
from consent.rules import Decision
from consent.selectors.session import (
    QuestionData,
    RecordData,
    record_data_get,
    utc_text,
)

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

# Our own identifier and code systems, each under the institution's base URL.
RECORD_ID_PATH = "/fhir/sid/consent-record-id"
RECORD_PDF_SHA256_PATH = "/fhir/sid/consent-record-pdf-sha256"
RECORD_JSON_SHA256_PATH = "/fhir/sid/consent-record-json-sha256"
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
PHYSICIAN_KINDS = {Kind.ATTESTATION, Kind.COUNTERSIGNATURE}

ERROR_PDF_CHANGED = "the stored PDF of record {record_id} no longer matches its SHA-256"
ERROR_UNDECIDED = "record {record_id} holds no decision of the patient"


class FhirExportError(Exception):
    """The record cannot be exported as it stands (its stored PDF changed, or no decision)."""


def record_fhir_bundle(record: ConsentRecord, *, base_url: str) -> dict[str, Any]:
    """The finalized record as a FHIR R4 Bundle (type collection), ready for `json.dumps`.

    `base_url` is the institution's stable public origin (`settings.SITE_URL`): it makes the
    PDF's address and the namespaces of our identifiers and codes. Labels are in the record's
    language (`LANGUAGE_CODE`, as in the PDF), whatever language the request is in.
    """
    base_url = base_url.rstrip("/")
    session = ConsentSession.objects.select_related("physician").get(pk=record.session_id)
    with translation.override(settings.LANGUAGE_CODE):
        data = record_data_get(session=session)
        signatures = list(Signature.objects.filter(session=session).order_by("signed_at", "pk"))
        addenda = data.stored.addenda if data.stored else []
        withdrawal = next((a for a in addenda if a.kind == Addendum.Kind.WITHDRAWAL), None)
        # A withdrawal ends a consent that was given; a refusal has nothing to withdraw.
        consented = data.decision.outcome == Decision.CONSENTED
        withdrawn_at = withdrawal.created_at if withdrawal and consented else None
        pdf = _stored_pdf(record)
        export = _Export(record, session, data, base_url)
        resources = [
            export.patient(),
            export.practitioner(),
            export.organization(),
            export.consent(pdf, withdrawn_at),
            export.questionnaire_response(),
            export.provenance(signatures),
        ]
    # ISO 8601 times in UTC with whole seconds: compared as text, in time order.
    last_change = max(moment for moment in (data.finalized_at, withdrawn_at) if moment)
    bundle = {
        "resourceType": "Bundle",
        "id": export.id("Bundle"),
        "type": "collection",
        "timestamp": last_change,
        "entry": [
            {"fullUrl": export.url(resource["resourceType"]), "resource": resource}
            for resource in resources
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


class _Export:
    """The resources of one record's bundle, each built from data already gathered."""

    def __init__(
        self, record: ConsentRecord, session: ConsentSession, data: RecordData, base_url: str
    ) -> None:
        self.record = record
        self.session = session
        self.data = data
        self.base_url = base_url

    def id(self, resource_type: str) -> str:
        return str(uuid.uuid5(self.session.public_id, resource_type))

    def url(self, resource_type: str) -> str:
        return f"urn:uuid:{self.id(resource_type)}"

    def reference(self, resource_type: str) -> dict[str, str]:
        return {"reference": self.url(resource_type)}

    def system(self, path: str) -> str:
        return self.base_url + path

    def patient(self) -> dict[str, Any]:
        patient = self.data.patient
        return {
            "resourceType": "Patient",
            "id": self.id("Patient"),
            "identifier": [
                {
                    "use": "usual",
                    "type": _concept(IDENTIFIER_TYPE_SYSTEM, "MR", "Medical record number"),
                    "system": self.system(PATIENT_RECORD_NUMBER_PATH),
                    "value": patient.record_number,
                }
                if patient.record_number
                else None
            ],
            # One field as the patient's name was entered: never split into given and family.
            "name": [{"text": patient.name}],
            "birthDate": patient.birth_date,
        }

    def practitioner(self) -> dict[str, Any]:
        physician = self.session.physician
        return {
            "resourceType": "Practitioner",
            "id": self.id("Practitioner"),
            "identifier": [
                {
                    "use": "usual",
                    "system": self.system(STAFF_USERNAME_PATH),
                    "value": physician.get_username(),
                }
            ],
            "name": [
                {
                    "text": self.data.physician,
                    "family": physician.last_name,
                    "given": [physician.first_name],
                }
            ],
        }

    def organization(self) -> dict[str, Any]:
        return {
            "resourceType": "Organization",
            "id": self.id("Organization"),
            "name": self.data.institution,
        }

    def consent(self, pdf: bytes, withdrawn_at: str | None) -> dict[str, Any]:
        decision = self.data.decision
        if decision.outcome == Decision.CONSENTED:
            status = "inactive" if withdrawn_at else "active"
            provision_type = "permit"
            period = {"start": decision.decided_at, "end": withdrawn_at}
        elif decision.outcome == Decision.DECLINED:
            status, provision_type, period = "rejected", "deny", None
        else:
            raise FhirExportError(ERROR_UNDECIDED.format(record_id=self.record.record_id))
        record = self.record
        procedure = self.data.procedure
        pdf_path = reverse("audit:record_pdf", args=[self.session.public_id])
        return {
            "resourceType": "Consent",
            "id": self.id("Consent"),
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
            "category": [_concept(LOINC_SYSTEM, "59284-0", "Patient Consent")],
            "patient": self.reference("Patient"),
            "dateTime": self.data.finalized_at,
            "performer": [self.reference("Patient")],
            "organization": [self.reference("Organization")],
            "sourceAttachment": {
                "contentType": "application/pdf",
                "url": self.base_url + pdf_path,
                "size": len(pdf),
                # FHIR R4 Attachment.hash: the SHA-1 of the data, in base64.
                "hash": base64.b64encode(hashlib.sha1(pdf).digest()).decode("ascii"),  # noqa: S324
                "title": record.record_id,
                "creation": utc_text(record.finalized_at),
            },
            # ppc-1 asks for a policy or a policy rule; no HL7 policy code names a treatment
            # consent, and the binding is extensible, so the rule is said in words.
            "policyRule": {
                "text": _("Informed consent to a procedure, under the consent policy of %(name)s")
                % {"name": self.data.institution}
            },
            "provision": {
                "type": provision_type,
                "period": period,
                "code": [
                    {
                        "coding": [
                            {
                                "system": self.system(PROCEDURE_PATH),
                                "code": procedure.slug,
                                "display": procedure.title,
                            }
                        ],
                        "text": procedure.title,
                    }
                ],
            },
        }

    def questionnaire_response(self) -> dict[str, Any]:
        procedure = self.data.procedure
        answered = [
            attempt.answered_at
            for question in self.data.questions
            for attempt in question.attempts
            if attempt.answered_at
        ]
        return {
            "resourceType": "QuestionnaireResponse",
            "id": self.id("QuestionnaireResponse"),
            # The pinned pack version, as a versioned canonical (not served as a resource).
            "questionnaire": (
                f"{self.system(QUESTIONNAIRE_PATH)}{procedure.slug}-{procedure.language}"
                f"|{procedure.version}"
            ),
            "status": "completed",
            "subject": self.reference("Patient"),
            "authored": max(answered) if answered else self.data.finalized_at,
            "source": self.reference("Patient"),
            "item": [self._question_item(question) for question in self.data.questions],
        }

    def _question_item(self, question: QuestionData) -> dict[str, Any]:
        key = question.key
        children: list[dict[str, Any]] = [
            {
                "linkId": f"{key}.outcome",
                "text": _("Outcome"),
                "answer": [
                    {
                        "valueCoding": {
                            "system": self.system(OUTCOME_PATH),
                            "code": question.outcome,
                            "display": question.outcome_label,
                        }
                    }
                ],
            }
        ]
        for attempt in question.attempts:
            parts = [
                _answered(f"{key}.attempt.round", _("Round"), valueInteger=attempt.round),
                _answered(f"{key}.attempt.answer", _("Answer"), valueString=attempt.answer),
            ]
            if attempt.correct is not None:  # free text is assessed, never graded
                parts.append(
                    _answered(f"{key}.attempt.correct", _("Correct"), valueBoolean=attempt.correct)
                )
            parts.append(
                _answered(
                    f"{key}.attempt.answered-at",
                    _("Answered at"),
                    valueDateTime=attempt.answered_at,
                )
            )
            children.append({"linkId": f"{key}.attempt", "text": _("Attempt"), "item": parts})
        if question.review is not None:
            # The physician's assessment of an answer in the patient's own words.
            children.extend(
                _answered(f"{key}.key-point", point.text, valueBoolean=point.covered)
                for point in question.review.key_points
            )
        return {"linkId": key, "text": question.prompt, "item": children}

    def provenance(self, signatures: list[Signature]) -> dict[str, Any]:
        agents, entries = [], []
        for signature in signatures:
            who = self._signer(signature)
            agent_type = AGENT_TYPES.get(signature.kind)
            agents.append(
                {
                    "type": _concept(PARTICIPANT_TYPE_SYSTEM, *agent_type) if agent_type else None,
                    "role": [_concept(SIGNER_TYPE_SYSTEM, *AGENT_ROLES[signature.kind])],
                    "who": who,
                }
            )
            code, display = SIGNATURE_PURPOSES[signature.kind]
            image = bytes(signature.image) if signature.image else None
            entries.append(
                {
                    "type": [{"system": SIGNATURE_TYPE_SYSTEM, "code": code, "display": display}],
                    "when": utc_text(signature.signed_at),
                    "who": who,
                    "sigFormat": "image/png" if image else "application/json",
                    "data": base64.b64encode(image or _manifestation(signature)).decode("ascii"),
                }
            )
        return {
            "resourceType": "Provenance",
            "id": self.id("Provenance"),
            "target": [self.reference("Consent"), self.reference("QuestionnaireResponse")],
            "occurredPeriod": {"start": self.data.created_at, "end": self.data.finalized_at},
            "recorded": self.data.finalized_at,
            "activity": _concept(DATA_OPERATION_SYSTEM, "CREATE", "create"),
            "agent": agents,
            "signature": entries,
        }

    def _signer(self, signature: Signature) -> dict[str, str]:
        """The patient and the physician by reference; an interpreter or a witness by name."""
        if signature.kind in PATIENT_KINDS:
            return {**self.reference("Patient"), "display": signature.printed_name}
        if signature.kind in PHYSICIAN_KINDS and signature.signer_id == self.session.physician_id:
            return {**self.reference("Practitioner"), "display": signature.printed_name}
        return {"display": signature.printed_name}


def _manifestation(signature: Signature) -> bytes:
    """A typed or password signature as data: its manifestation (21 CFR 11.50) and the SHA-256
    of the evidence snapshot it vouched for, as canonical JSON."""
    return canonical_bytes(
        {
            "kind": signature.kind,
            "meaning": signature.meaning,
            "method": signature.method,
            "printed_name": signature.printed_name,
            "signed_at": utc_text(signature.signed_at),
            "snapshot_sha256": signature.snapshot_hash,
        }
    )


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
