"""Staff forms: the dashboard filter, a new session, the physician's review, verification.

They parse what staff post; the services (consent/services/) act on it.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from consent.forms import choice_field
from consent.forms.patient import (
    EARLIEST_BIRTH_DATE,
    birth_date_implausible,
    png_data_url,
    png_data_url_decode,
)
from consent.languages import language_label
from consent.models import (
    Addendum,
    ConsentSession,
    ProcedureVersion,
)
from consent.record.verification import MAX_UPLOAD_BYTES
from consent.roles import PHYSICIAN
from consent.services.sessions import (
    language_unavailable_message,
    procedure_languages,
    procedure_sources_offered,
    unreviewed_content_allowed,
)

TEXT_MAX = 5000
NAME_MAX = 200

MESSAGE_ANSWER_REQUIRED = _("Write your answer to the patient's question.")
MESSAGE_RESOLUTION_REQUIRED = _("Write how this item was resolved with the patient.")
MESSAGE_PASSWORD_REQUIRED = _("Enter your password to sign. Nothing was signed.")
MESSAGE_INTERPRETER_LANGUAGE = _("Give the language the interpreter used.")
MESSAGE_INTERPRETER_NAME = _("Give the interpreter's name.")


def _unreviewed_label(label: str) -> str:
    """The label of a text that is not clinically reviewed, marked as such wherever offered."""
    return _("%(version)s: not clinically reviewed, for demonstration only") % {"version": label}


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class DashboardFilterForm(forms.Form):
    """The dashboard's status filter (a GET form: it changes nothing)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Every status")), *ConsentSession.Status.choices],
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class PatientQuestionAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Your answer"),
        max_length=TEXT_MAX,
        widget=_textarea(),
        error_messages={"required": MESSAGE_ANSWER_REQUIRED},
    )

    def __init__(self, *args: Any, question_id: int, **kwargs: Any) -> None:
        # One form per patient question on the same page: a prefix keeps their ids apart.
        kwargs["prefix"] = f"pq{question_id}"
        super().__init__(*args, **kwargs)


class ReviewedQuestion(Protocol):
    """What the review form needs of a question: a model row or the session's read model."""

    @property
    def id(self) -> int: ...
    @property
    def key_points(self) -> list[str]: ...


class SectionChoice(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str: ...


class AlternativeChoice(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def name(self) -> str: ...


class QuestionReviewForm(forms.Form):
    """Which key points a free-text answer covered, and how a flagged item was resolved."""

    covered_key_points = forms.TypedMultipleChoiceField(
        label=_("Key points the patient's words covered"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea())

    def __init__(
        self, *args: Any, question: ReviewedQuestion, flagged: bool, **kwargs: Any
    ) -> None:
        kwargs["prefix"] = f"q{question.id}"
        super().__init__(*args, **kwargs)
        self.flagged = flagged
        if question.key_points:
            choice_field(self, "covered_key_points").choices = list(enumerate(question.key_points))
        else:
            del self.fields["covered_key_points"]
        if flagged:
            note = self.fields["note"]
            note.label = _("How it was resolved")
            note.required = True
            note.error_messages["required"] = MESSAGE_RESOLUTION_REQUIRED
            note.help_text = _(
                "What you explained again, and how the patient then showed they understood."
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data.setdefault("covered_key_points", [])
        return data


class DiscussionForm(forms.Form):
    """The conversation held in person: verbal teach-back, alternatives, interpreter, witness."""

    verbal_teachback = forms.MultipleChoiceField(
        label=_("Points the patient explained back in their own words"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    verbal_teachback_notes = forms.CharField(
        label=_("Notes on the verbal teach-back"),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(),
    )
    alternatives_discussed = forms.MultipleChoiceField(
        label=_("Alternatives discussed"), required=False, widget=forms.CheckboxSelectMultiple
    )
    alternatives_notes = forms.CharField(
        label=_("Notes on the alternatives"),
        required=False,
        max_length=TEXT_MAX,
        widget=_textarea(),
    )
    interpreter_name = forms.CharField(
        label=_("Interpreter's name"), required=False, max_length=NAME_MAX
    )
    interpreter_language = forms.CharField(
        label=_("Language interpreted"), required=False, max_length=100
    )
    witness_name = forms.CharField(label=_("Witness's name"), required=False, max_length=NAME_MAX)

    def __init__(
        self,
        *args: Any,
        sections: Sequence[SectionChoice],
        alternatives: Sequence[AlternativeChoice],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "verbal_teachback").choices = [
            (s.key, f"{s.kind.capitalize()}: {s.title}") for s in sections
        ]
        alternatives_field = choice_field(self, "alternatives_discussed")
        alternatives_field.choices = [(a.key, a.name) for a in alternatives]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        name, language = data.get("interpreter_name"), data.get("interpreter_language")
        if name and not language:
            self.add_error("interpreter_language", MESSAGE_INTERPRETER_LANGUAGE)
        if language and not name:
            self.add_error("interpreter_name", MESSAGE_INTERPRETER_NAME)
        return data


class SignForm(forms.Form):
    """Signing is a deliberate act: the physician re-enters their password (21 CFR 11.200)."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": MESSAGE_PASSWORD_REQUIRED},
    )


class AddendumForm(forms.Form):
    """A withdrawal or a correction: a signing act (password), the patient's signature optional.

    The patient signs on the physician's screen with the pad they signed their decision on
    (signature.js): typed full name, drawing optional. `submission_key` is the form's one-time
    key: a second submit of the same form finds the addendum the first one made.
    """

    kind = forms.ChoiceField(
        label=_("Kind of addendum"),
        choices=Addendum.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether this is a withdrawal or a correction.")},
    )
    text = forms.CharField(
        label=_("Text of the addendum"),
        max_length=TEXT_MAX,
        widget=_textarea(4),
        error_messages={"required": _("Write the text of the addendum.")},
    )
    patient_name = forms.CharField(
        label=_("Patient's full name (when the patient signs the withdrawal)"),
        required=False,
        max_length=NAME_MAX,
    )
    signature = forms.CharField(required=False, strip=True, widget=forms.HiddenInput)
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={
            "required": _("Enter your password to add the addendum. Nothing was added.")
        },
    )
    submission_key = forms.CharField(
        widget=forms.HiddenInput, max_length=64, initial=lambda: uuid.uuid4().hex
    )

    def clean_patient_name(self) -> str:
        return " ".join(self.cleaned_data["patient_name"].split())

    def clean_signature(self) -> bytes | None:
        return png_data_url_decode(self.cleaned_data["signature"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        signed = data.get("patient_name") or data.get("signature")
        if signed and data.get("kind") == Addendum.Kind.CORRECTION:
            self.add_error(
                "patient_name", _("Only a withdrawal of consent carries the patient's signature.")
            )
        elif data.get("signature") and not data.get("patient_name"):
            self.add_error(
                "patient_name", _("The patient drew a signature: type their full name too.")
            )
        return data

    @property
    def drawing_data_url(self) -> str:
        """The accepted drawing, drawn again when the page comes back with a message."""
        if not self.is_bound or "signature" in self.errors or not hasattr(self, "cleaned_data"):
            return ""
        image = self.cleaned_data.get("signature")
        return png_data_url(image) if image else ""


class PhysicianChoiceField(forms.ModelChoiceField):
    """Physicians by their full name (the user name for an account without one)."""

    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class ProcedureVersionChoiceField(forms.ModelChoiceField):
    """Procedure versions, an unreviewed one marked as such (consent/services/sessions.py
    decides which are offered)."""

    def label_from_instance(self, obj: ProcedureVersion) -> str:
        if obj.clinically_reviewed:
            return str(obj)
        return _unreviewed_label(str(obj))


def _language_choices(
    languages_by_procedure: dict[ProcedureVersion, dict[str, ProcedureVersion]],
) -> list[tuple[str, str]]:
    """Every language of the offered procedures, named for staff and for the patient ("French
    (Français)"); marked as not clinically reviewed where its text is not reviewed in any of
    them (the help text says which procedure has which)."""
    versions: dict[str, list[ProcedureVersion]] = {}
    for languages in languages_by_procedure.values():
        for code, version in languages.items():
            versions.setdefault(code, []).append(version)
    choices = []
    for code, in_language in versions.items():
        label = language_label(code)
        if not any(version.clinically_reviewed for version in in_language):
            label = _unreviewed_label(label)
        choices.append((code, label))
    return choices


def _languages_help(
    languages_by_procedure: dict[ProcedureVersion, dict[str, ProcedureVersion]],
) -> str:
    """Which procedure has which languages, each unreviewed translation said to be so."""
    lines = []
    for source, languages in languages_by_procedure.items():
        names = [
            language_label(code)
            if version.clinically_reviewed
            else _unreviewed_label(language_label(code))
            for code, version in languages.items()
        ]
        lines.append(
            _("%(procedure)s: %(languages)s.")
            % {"procedure": f"{source.title} ({source.version})", "languages": "; ".join(names)}
        )
    return " ".join(lines)


class ConsentSessionForm(forms.ModelForm):
    """What staff enter to start a consent session."""

    procedure_version = ProcedureVersionChoiceField(
        queryset=ProcedureVersion.objects.none(), label=_("Procedure (language, version)")
    )
    # Left out (an older client, a script), the procedure's own language.
    language = forms.ChoiceField(label=_("The patient's language"), required=False)
    physician = PhysicianChoiceField(
        queryset=get_user_model().objects.none(), label=_("Responsible physician")
    )

    class Meta:
        model = ConsentSession
        fields = [
            "patient_name",
            "patient_birth_date",
            "patient_record_number",
            "procedure_version",
            "language",
            "physician",
        ]
        widgets = {"patient_birth_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = procedure_sources_offered()
        field = cast(forms.ModelChoiceField, self.fields["procedure_version"])
        field.queryset = versions
        self.languages_by_procedure = {v: procedure_languages(v) for v in versions}
        language = choice_field(self, "language")
        language.choices = _language_choices(self.languages_by_procedure)
        if len(self.languages_by_procedure) > 1:  # which procedure has which language
            language.help_text = _languages_help(self.languages_by_procedure)
        if not self.is_bound:
            self.initial.setdefault("language", settings.LANGUAGE_CODE)
        if not unreviewed_content_allowed():
            field.help_text = _(
                "Only clinically reviewed procedure texts can be used here; a text that is not "
                "reviewed is for demonstration only."
            )
        if not self.is_bound and len(versions) == 1:
            self.initial.setdefault("procedure_version", versions[0].pk)
        physicians = get_user_model().objects.filter(groups__name=PHYSICIAN, is_active=True)
        physician = cast(forms.ModelChoiceField, self.fields["physician"])
        physician.queryset = physicians.order_by("last_name", "username")
        if not self.is_bound:
            self.initial.setdefault("physician", user.pk)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Create consent session")))

    def clean_patient_birth_date(self) -> date:
        """A date the patient could type back on their own device (`birth_date_implausible`,
        shared with the patient's date-of-birth form): from 1900 on, not in the future."""
        value = self.cleaned_data["patient_birth_date"]
        problem = birth_date_implausible(value, timezone.localdate())
        if problem == "future":
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if problem == "early":
            raise forms.ValidationError(
                _(
                    "The date of birth cannot be before %(earliest)s. Check the year: it is "
                    "written with four digits, for example 1950."
                )
                % {"earliest": date_format(EARLIEST_BIRTH_DATE, "j F Y")}
            )
        return value

    def clean(self) -> dict[str, Any]:
        """A language the chosen procedure lacks is refused here, naming the ones it has."""
        super().clean()
        data = self.cleaned_data
        procedure, language = data.get("procedure_version"), data.get("language")
        if procedure is not None and language:
            languages = self.languages_by_procedure.get(procedure) or procedure_languages(procedure)
            if language not in languages:
                self.add_error("language", language_unavailable_message(language, languages))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class LinkIssueForm(forms.Form):
    """A new patient link; the reason is required once the physician has attested (the
    service says so), optional before."""

    reason = forms.CharField(
        label=_("Why a new link?"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text=_(
            "The physician has attested: whoever holds a new link can sign as the patient. "
            "The reason is stored and shown on the review page and in the record."
        ),
    )


class VerifyUploadForm(forms.Form):
    file = forms.FileField(
        label=_("The PDF to check"),
        help_text=_("A consent record's PDF, as someone gave it to you (at most 20 MB)."),
        error_messages={
            "required": _("Choose a PDF file to check."),
            "empty": _("This file is empty: choose the record's PDF."),
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("This file is larger than 20 MB: no consent record of ours is that large.")
            )
        return upload
