"""The patient's forms: the date of birth, answers, questions, and the decision's signatures.

They turn posted text into clean values and say plainly what is wrong with bad input.

A drawn signature arrives as a PNG data URL in a hidden field (filled in by signature.js on
submit). The form decodes it and accepts only a real PNG of reasonable size; anything else is
refused with a message that says what to do. The typed name alone always signs: some patients
cannot draw, and without JavaScript there is no drawing area at all.
"""

import base64
import binascii
import io
import uuid
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from consent.choice_order import Presentation
from consent.forms import choice_field
from consent.models import Question, Signature
from consent.services import ServiceError, signatures

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MESSAGE_CHOOSE_ONE = _("Choose an answer.")
MESSAGE_CHOOSE_SOME = _("Choose at least one answer.")
MESSAGE_TRUE_FALSE = _("Choose true or false.")
# A key that is not one of the choices shown (a form from another page, or forged).
MESSAGE_NOT_SHOWN_ONE = _(
    "That answer is not one of the choices shown here, so nothing was saved. Choose an answer."
)
MESSAGE_NOT_SHOWN_SOME = _(
    "That answer is not one of the choices shown here, so nothing was saved. Choose at least "
    "one answer."
)
MESSAGE_WRITE_ANSWER = _("Write your answer in your own words.")
MESSAGE_TOO_LONG = _(
    "Your answer is %(length)d characters long. Please shorten it to %(limit)d characters or "
    "fewer: your text is still in the box."
)
MESSAGE_BIRTH_DATE = _("Enter your date of birth as day, month and year, for example 27 3 1950.")
MESSAGE_NOT_A_DATE = _("That is not a real date. Check the day, month and year.")
MESSAGE_BIRTH_DATE_FUTURE = _("That date is in the future. Check the year.")

# A date of birth is plausible from this year on, up to today: the patient's three boxes and
# the staff's new-session form (consent/forms/staff.py) refuse the same dates, so a date staff
# can enter is one the patient can type back.
EARLIEST_BIRTH_YEAR = 1900
EARLIEST_BIRTH_DATE = date(EARLIEST_BIRTH_YEAR, 1, 1)


def birth_date_implausible(value: date, today: date) -> str | None:
    """'early' (before `EARLIEST_BIRTH_DATE`), 'future' (after today), or None when plausible."""
    if value < EARLIEST_BIRTH_DATE:
        return "early"
    if value > today:
        return "future"
    return None


def _date_part(
    label: "StrOrPromise", low: int, high: int, out_of_range: "StrOrPromise", autocomplete: str
) -> forms.IntegerField:
    """One of the three boxes of a date of birth, with messages that say what to type."""
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        error_messages={
            "required": MESSAGE_BIRTH_DATE,
            "invalid": MESSAGE_BIRTH_DATE,
            "min_value": out_of_range,
            "max_value": out_of_range,
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": autocomplete}),
    )


class BirthDateForm(forms.Form):
    """Day, month and year as three boxes: the pattern people fill in most reliably."""

    day = _date_part(_("Day"), 1, 31, _("Enter a day from 1 to 31."), "bday-day")
    month = _date_part(_("Month"), 1, 12, _("Enter a month from 1 to 12."), "bday-month")
    year = _date_part(
        _("Year"),
        EARLIEST_BIRTH_YEAR,
        2100,
        _("Enter the year with four digits, for example 1950 (from 1900 to this year)."),
        "bday-year",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        try:
            birth_date = date(data["year"], data["month"], data["day"])
        except ValueError as error:
            raise forms.ValidationError(MESSAGE_NOT_A_DATE) from error
        # Not a wrong try either: no one's date of birth is in the future (a slip of the year).
        if birth_date_implausible(birth_date, timezone.localdate()) == "future":
            raise forms.ValidationError(MESSAGE_BIRTH_DATE_FUTURE)
        data["birth_date"] = birth_date
        return data


class AnswerForm(forms.Form):
    """The answer to one teach-back question, shaped by the question's kind."""

    round = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, presentation: Presentation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.presentation = presentation
        question = presentation.wording
        self.question = question
        # Each choice is posted by its stable key, in the order this attempt shows them.
        choices = [(choice.key, choice.text) for choice in presentation.choices]
        kind = question.kind
        if kind == Question.Kind.SINGLE:
            field: forms.Field = forms.ChoiceField(
                choices=choices,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": MESSAGE_CHOOSE_ONE,
                    "invalid_choice": MESSAGE_NOT_SHOWN_ONE,
                },
            )
        elif kind == Question.Kind.MULTIPLE:
            field = forms.MultipleChoiceField(
                choices=choices,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": MESSAGE_CHOOSE_SOME,
                    "invalid_choice": MESSAGE_NOT_SHOWN_SOME,
                    "invalid_list": MESSAGE_CHOOSE_SOME,
                },
            )
        elif kind == Question.Kind.TRUE_FALSE:
            field = forms.TypedChoiceField(
                choices=[("true", _("True")), ("false", _("False"))],
                coerce=lambda value: value == "true",
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": MESSAGE_TRUE_FALSE,
                    "invalid_choice": MESSAGE_TRUE_FALSE,
                },
            )
        else:
            field = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 5}),
                strip=True,
                error_messages={"required": MESSAGE_WRITE_ANSWER},
            )
        field.label = question.prompt
        self.fields["answer"] = field

    def clean_answer(self) -> Any:
        answer = self.cleaned_data["answer"]
        limit = settings.CONSENT_FREE_TEXT_MAX
        if self.question.kind == Question.Kind.FREE_TEXT and len(answer) > limit:
            raise forms.ValidationError(
                MESSAGE_TOO_LONG, params={"length": len(answer), "limit": limit}
            )
        if self.question.kind == Question.Kind.SINGLE:
            answer = [answer]
        if self.question.kind in (Question.Kind.SINGLE, Question.Kind.MULTIPLE):
            indexes = self.presentation.indexes_of(answer)
            if indexes is None:  # the field has already refused a key not on the page
                raise forms.ValidationError(MESSAGE_NOT_SHOWN_ONE)
            return indexes
        return answer


class PatientQuestionForm(forms.Form):
    text = forms.CharField(
        label=_("Your question for the doctor"),
        widget=forms.Textarea(attrs={"rows": 5}),
        strip=True,
        error_messages={"required": _("Write your question before sending it.")},
    )
    form_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        limit = settings.CONSENT_PATIENT_QUESTION_MAX
        if len(text) > limit:
            raise forms.ValidationError(
                _(
                    "Your question is %(length)d characters long. Please shorten it to "
                    "%(limit)d characters or fewer: your text is still in the box."
                ),
                params={"length": len(text), "limit": limit},
            )
        return text


MESSAGE_LANGUAGE_UNKNOWN = _("Choose one of the languages shown on this page.")


class LanguageForm(forms.Form):
    """The language the patient asks for on the first page: one of the procedure's."""

    language = forms.ChoiceField(
        error_messages={
            "required": MESSAGE_LANGUAGE_UNKNOWN,
            "invalid_choice": MESSAGE_LANGUAGE_UNKNOWN,
        }
    )

    def __init__(self, *args: Any, languages: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "language").choices = [(code, code) for code in languages]


# The patient's decision: consent, informed refusal, and a companion's signature.
PNG_DATA_URL_PREFIX = "data:image/png;base64,"
# The longest data URL worth decoding: the base64 of the largest PNG that signing accepts.
PNG_DATA_URL_MAX = len(PNG_DATA_URL_PREFIX) + 4 * -(-signatures.MAX_SIGNATURE_BYTES // 3)
# A canvas as wide as a large screen at three device pixels per CSS pixel still fits.
IMAGE_SIDE_MAX = 6000
NAME_MAX = Signature._meta.get_field("printed_name").max_length
REASON_MAX = 2000

MESSAGE_STATEMENTS = _(
    "Please confirm each statement before signing. If one of them is not true for you, talk "
    "to your doctor before you decide."
)
MESSAGE_SIGNATURE_UNREADABLE = _(
    "The drawn signature could not be read. Please press “Clear” and draw it again, or sign "
    "with your typed name only."
)
MESSAGE_SIGNATURE_TOO_LARGE = _(
    "The drawn signature is too large to store. Please press “Clear” and draw it again, or "
    "sign with your typed name only."
)
MESSAGE_NAME_TOO_LONG = _("Your name can be at most %(limit_value)d characters long.")
MESSAGE_REASON_TOO_LONG = _(
    "Your reason is %(show_value)d characters long. Please shorten it to %(limit_value)d "
    "characters or fewer: your text is still in the box."
)
MESSAGE_ROLE = _("Choose whether you sign as the interpreter or as the witness.")


def png_data_url_decode(value: str) -> bytes | None:
    """The PNG in a `data:image/png;base64,` URL, None for no drawing; refuse anything else."""
    if not value:
        return None
    if len(value) > PNG_DATA_URL_MAX:
        raise forms.ValidationError(MESSAGE_SIGNATURE_TOO_LARGE, code="too_large")
    if not value.startswith(PNG_DATA_URL_PREFIX):
        raise forms.ValidationError(MESSAGE_SIGNATURE_UNREADABLE, code="not_png")
    try:
        decoded = base64.b64decode(value[len(PNG_DATA_URL_PREFIX) :], validate=True)
        image = signatures.signature_image_check(decoded)
    except (binascii.Error, ValueError, ServiceError) as error:
        raise forms.ValidationError(MESSAGE_SIGNATURE_UNREADABLE, code="not_png") from error
    if image is None or not _png_is_whole(image):
        raise forms.ValidationError(MESSAGE_SIGNATURE_UNREADABLE, code="not_png")
    return image


def _png_is_whole(image: bytes) -> bool:
    """Whether the bytes are one readable PNG of sane size: the record's PDF embeds it later,
    and a broken picture must not stop the physician from finalizing."""
    try:
        with Image.open(io.BytesIO(image), formats=["PNG"]) as picture:
            width, height = picture.size
            if not (0 < width <= IMAGE_SIDE_MAX and 0 < height <= IMAGE_SIDE_MAX):
                return False
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def png_data_url(image: bytes) -> str:
    return PNG_DATA_URL_PREFIX + base64.b64encode(image).decode("ascii")


class SignedForm(forms.Form):
    """The typed full name, and the optional drawing that goes with it."""

    typed_name = forms.CharField(
        label=_("Your full name"),
        max_length=NAME_MAX,
        error_messages={
            "required": signatures.ERROR_NAME_REQUIRED,
            "max_length": MESSAGE_NAME_TOO_LONG,
        },
    )
    signature = forms.CharField(required=False, strip=True, widget=forms.HiddenInput)

    def clean_typed_name(self) -> str:
        return " ".join(self.cleaned_data["typed_name"].split())

    def clean_signature(self) -> bytes | None:
        return png_data_url_decode(self.cleaned_data["signature"])

    @property
    def drawing_data_url(self) -> str:
        """The accepted drawing, to draw it again when the page comes back with a message."""
        if not self.is_bound or "signature" in self.errors:
            return ""
        image = self.cleaned_data.get("signature")
        return png_data_url(image) if image else ""


MESSAGE_RELATIONSHIP_TOO_LONG = _(
    "The relationship can be at most %(limit_value)d characters long."
)


class PatientSignedForm(SignedForm):
    """The patient's own signature, or their legal representative's, who says so and gives
    their relationship to the patient. The service checks the typed name against the
    patient's (consent/rules.py `typed_name_matches`) unless a representative signs."""

    as_representative = forms.BooleanField(
        label=_("I am signing as the patient's legal representative"), required=False
    )
    relationship = forms.CharField(
        label=_("Your relationship to the patient"),
        required=False,
        max_length=signatures.RELATIONSHIP_MAX,
        error_messages={"max_length": MESSAGE_RELATIONSHIP_TOO_LONG},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if data.get("as_representative"):
            relationship = " ".join(data.get("relationship", "").split())
            if not relationship and "relationship" not in self.errors:
                self.add_error("relationship", signatures.ERROR_RELATIONSHIP_REQUIRED)
            data["relationship"] = relationship
        return data

    @property
    def signer_relationship(self) -> str | None:
        """For the service: the relationship when a representative signs, None for the patient."""
        if not self.cleaned_data.get("as_representative"):
            return None
        return str(self.cleaned_data.get("relationship", ""))


# The index of "My questions have been answered." among the statements.
QUESTIONS_STATEMENT = signatures.PATIENT_CONSENT_STATEMENTS.index(
    signatures.STATEMENT_QUESTIONS_ANSWERED
)
# Ties the disabled statement to the sentence below it that says why.
QUESTIONS_OPEN_ID = "statement-questions-open"


class StatementsWidget(forms.CheckboxSelectMultiple):
    """The statements' checkboxes; the ones in `disabled` are shown but cannot be ticked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.disabled: set[str] = set()

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.disabled:
            attrs = {key: v for key, v in option["attrs"].items() if key != "checked"}
            option["attrs"] = {**attrs, "disabled": True, "aria-describedby": QUESTIONS_OPEN_ID}
            option["selected"] = False
        return option


class ConsentForm(PatientSignedForm):
    """The three statements, the name and the drawing. `unanswered` lists the patient's
    questions still without a written answer: "My questions have been answered" is then shown
    disabled, with why, and the form refuses to sign, naming them (the service does too)."""

    statements = forms.TypedMultipleChoiceField(
        label=_("Please confirm each statement"),
        choices=[(i, text) for i, text in enumerate(signatures.PATIENT_CONSENT_STATEMENTS)],
        coerce=int,
        required=False,
        widget=StatementsWidget(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": MESSAGE_STATEMENTS, "invalid_list": MESSAGE_STATEMENTS},
    )
    field_order = ["statements", "typed_name", "as_representative", "relationship", "signature"]

    def __init__(self, *args: Any, unanswered: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unanswered = list(unanswered or [])
        widget = self.fields["statements"].widget
        if self.unanswered and isinstance(widget, StatementsWidget):
            widget.disabled = {str(QUESTIONS_STATEMENT)}

    @property
    def unanswered_message(self) -> str:
        """Why "My questions have been answered" cannot be ticked; empty when it can."""
        if not self.unanswered:
            return ""
        return signatures.questions_unanswered_message(self.unanswered)

    @property
    def unanswered_note(self) -> str:
        """Said under the disabled statement: which questions still wait for an answer."""
        quoted = ", ".join(f"“{question}”" for question in self.unanswered)
        return ngettext(
            "You cannot tick this yet. Your doctor has not answered your question %(questions)s.",
            "You cannot tick this yet. Your doctor has not answered your questions %(questions)s.",
            len(self.unanswered),
        ) % {"questions": quoted}

    questions_open_id = QUESTIONS_OPEN_ID

    def clean_statements(self) -> list[int]:
        if self.unanswered:
            raise forms.ValidationError(self.unanswered_message, code="questions_unanswered")
        ticked = sorted(set(self.cleaned_data["statements"]))
        if len(ticked) != len(signatures.PATIENT_CONSENT_STATEMENTS):
            raise forms.ValidationError(MESSAGE_STATEMENTS, code="statements")
        return ticked


class DeclineForm(PatientSignedForm):
    reason = forms.CharField(
        label=_("Your reason (if you want to give one)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": MESSAGE_REASON_TOO_LONG},
    )
    field_order = ["reason", "typed_name", "as_representative", "relationship", "signature"]


# Each companion's role: its label, and the statement its signer makes.
COMPANION_ROLES: dict[str, tuple[Promise, Promise]] = {
    Signature.Kind.INTERPRETER: (_("Interpreter"), signatures.INTERPRETER_STATEMENT),
    Signature.Kind.WITNESS: (_("Witness"), signatures.WITNESS_STATEMENT),
}


class CompanionForm(SignedForm):
    role = forms.ChoiceField(
        label=_("I sign as"),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": MESSAGE_ROLE, "invalid_choice": MESSAGE_ROLE},
    )
    field_order = ["role", "typed_name", "signature"]

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roles = roles
        choice_field(self, "role").choices = [(role, COMPANION_ROLES[role][0]) for role in roles]
        if len(roles) == 1 and not self.is_bound:
            self.initial["role"] = roles[0]

    def role_statements(self) -> list[dict[str, Any]]:
        """Each role the form offers, with the statement its signer makes."""
        chosen = self["role"].value()
        return [
            {
                "value": value,
                "label": COMPANION_ROLES[value][0],
                "statement": COMPANION_ROLES[value][1],
                "checked": chosen == value,
                "id": f"id_role_{index}",
            }
            for index, value in enumerate(self.roles)
        ]
