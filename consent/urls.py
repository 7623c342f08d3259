"""The rooms' URLs, one namespace each: patient, staff, audit and authoring (consent/views/)."""

from django.urls import path

from consent.views.audit import analytics, log
from consent.views.audit import records as audit
from consent.views.authoring import drafts, preview
from consent.views.patient import decision, keep_alive
from consent.views.patient import journey as patient
from consent.views.staff import finalizing, review, verification
from consent.views.staff import sessions as staff

patient_patterns = (
    [
        path("link/<str:token>/", patient.link_open, name="link"),
        path("patient/", patient.resume, name="resume"),
        path("patient/identity/", patient.identity, name="identity"),
        path("patient/start/", patient.start, name="start"),
        path("patient/language/", patient.language, name="language"),
        path("patient/section/<int:number>/", patient.section, name="section"),
        path("patient/question/<int:number>/", patient.question, name="question"),
        path("patient/question/<int:number>/result/", patient.result, name="result"),
        path("patient/ask/", patient.ask, name="ask"),
        path("patient/summary/", patient.summary, name="summary"),
        path("patient/leave/", patient.leave, name="leave"),
        # The patient's decision (consent/views/patient/decision.py).
        path("patient/decision/", decision.decide, name="decision"),
        path("patient/decision/decline/", decision.decline, name="decline"),
        path("patient/decision/companion/", decision.companion, name="companion"),
        # While the patient types or draws there, the decision pages keep the session alive.
        path("patient/keep-alive/", keep_alive.keep_alive, name="keep_alive"),
        path("patient/record.pdf", decision.record_copy, name="record_copy"),
        path("patient/addenda/<str:addendum_id>.pdf", decision.addendum_copy, name="addendum_copy"),
    ],
    "patient",
)

staff_patterns = (
    [
        path("", staff.session_list, name="session_list"),
        path("sessions/new/", staff.session_create, name="session_create"),
        path("sessions/<uuid:public_id>/", staff.session_detail, name="session_detail"),
        path("sessions/<uuid:public_id>/link/", staff.link_issue, name="link_issue"),
        path("sessions/<uuid:public_id>/link/revoke/", staff.link_revoke, name="link_revoke"),
        path("sessions/<uuid:public_id>/cancel/", staff.session_cancel, name="session_cancel"),
        # The physician's workspace (consent/views/staff/review.py).
        path("sessions/<uuid:public_id>/review/", review.review, name="review"),
        path(
            "sessions/<uuid:public_id>/patient-questions/<int:question_id>/answer/",
            review.patient_question_answer,
            name="patient_question_answer",
        ),
        path(
            "sessions/<uuid:public_id>/questions/<int:question_id>/review/",
            review.question_review,
            name="question_review",
        ),
        path("sessions/<uuid:public_id>/discussion/", review.discussion, name="discussion"),
        path("sessions/<uuid:public_id>/attest/", review.attest, name="attest"),
        path("sessions/<uuid:public_id>/finalize/", review.finalize, name="finalize"),
        path("sessions/<uuid:public_id>/finalizing/", finalizing.finalizing, name="finalizing"),
        path("sessions/<uuid:public_id>/record.pdf", review.record_pdf, name="record_pdf"),
        path("sessions/<uuid:public_id>/addenda/", review.addendum, name="addendum"),
        path(
            "sessions/<uuid:public_id>/addenda/<str:addendum_id>.pdf",
            review.addendum_pdf,
            name="addendum_pdf",
        ),
        # Verifying a record's PDF (consent/views/staff/verification.py).
        path("verify/", verification.verify_upload, name="verify_upload"),
        path("records/<str:record_id>/verify/", verification.record_verify, name="record_verify"),
    ],
    "staff",
)

# The auditor's workspace: read-only, for the auditor role (consent/views/audit/).
audit_patterns = (
    [
        path("", audit.record_list, name="record_list"),
        path("records.csv", audit.record_list_csv, name="record_list_csv"),
        path("sessions/<uuid:public_id>/", audit.record_detail, name="record_detail"),
        path("sessions/<uuid:public_id>/record.pdf", audit.record_pdf, name="record_pdf"),
        path(
            "sessions/<uuid:public_id>/addenda/<str:addendum_id>.pdf",
            audit.addendum_pdf,
            name="addendum_pdf",
        ),
        path("sessions/<uuid:public_id>/fhir.json", audit.record_fhir, name="record_fhir"),
        path("log/", log.log_verify, name="log_verify"),
        # Comprehension analytics (consent/views/audit/analytics.py).
        path("analytics/", analytics.analytics, name="analytics"),
        path(
            "analytics/languages.csv",
            analytics.analytics_languages_csv,
            name="analytics_languages_csv",
        ),
    ],
    "audit",
)

# The content editors' workbench (consent/views/authoring/).
_preview = "drafts/<int:draft_id>/preview/<str:language>/"
authoring_patterns = (
    [
        path("", drafts.draft_list, name="draft_list"),
        path("drafts/<int:draft_id>/", drafts.draft_detail, name="draft_detail"),
        path("drafts/<int:draft_id>/readability/", drafts.draft_readability, name="readability"),
        path("drafts/<int:draft_id>/changes/", drafts.draft_changes, name="changes"),
        path("drafts/<int:draft_id>/publish/", drafts.draft_publish, name="publish"),
        path(_preview, preview.preview_start, name="preview_start"),
        path(_preview + "section/<int:number>/", preview.preview_section, name="preview_section"),
        path(
            _preview + "question/<int:number>/", preview.preview_question, name="preview_question"
        ),
        path(_preview + "summary/", preview.preview_summary, name="preview_summary"),
        path(_preview + "decision/", preview.preview_decision, name="preview_decision"),
        path(_preview + "keep-alive/", preview.preview_keep_alive, name="preview_keep_alive"),
    ],
    "authoring",
)
