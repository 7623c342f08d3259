from django.urls import path

from consent.views import patient, staff

patient_patterns = (
    [
        path("link/<str:token>/", patient.link_open, name="link"),
        path("patient/", patient.resume, name="resume"),
        path("patient/verify/", patient.verify, name="verify"),
        path("patient/start/", patient.start, name="start"),
        path("patient/section/<int:number>/", patient.section, name="section"),
        path("patient/question/<int:number>/", patient.question, name="question"),
        path("patient/question/<int:number>/result/", patient.result, name="result"),
        path("patient/ask/", patient.ask, name="ask"),
        path("patient/summary/", patient.summary, name="summary"),
        path("patient/leave/", patient.leave, name="leave"),
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
    ],
    "staff",
)
