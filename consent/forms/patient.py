"""Forms: they turn posted text into clean values and say plainly what is wrong with bad input."""

import uuid
from datetime import date
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from consent.models import Question

MESSAGE_CHOOSE_ONE = _("Choose an answer.")
MESSAGE_CHOOSE_SOME = _("Choose at least one answer.")
MESSAGE_TRUE_FALSE = _("Choose true or false.")
MESSAGE_WRITE_ANSWER = _("Write your answer in your own words.")
MESSAGE_TOO_LONG = _(
    "Your answer is %(length)d characters long. Please shorten it to %(limit)d characters or "
    "fewer: your text is still in the box."
)
MESSAGE_BIRTH_DATE = _("Enter your date of birth as day, month and year, for example 27 3 1950.")
MESSAGE_NOT_A_DATE = _("That is not a real date. Check the day, month and year.")


class BirthDateForm(forms.Form):
    """Day, month and year as three boxes: the pattern people fill in most reliably."""

    day = forms.IntegerField(
        label=_("Day"),
        min_value=1,
        max_value=31,
        error_messages={
            "required": MESSAGE_BIRTH_DATE,
            "invalid": MESSAGE_BIRTH_DATE,
            "min_value": _("Enter a day from 1 to 31."),
            "max_value": _("Enter a day from 1 to 31."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-day"}),
    )
    month = forms.IntegerField(
        label=_("Month"),
        min_value=1,
        max_value=12,
        error_messages={
            "required": MESSAGE_BIRTH_DATE,
            "invalid": MESSAGE_BIRTH_DATE,
            "min_value": _("Enter a month from 1 to 12."),
            "max_value": _("Enter a month from 1 to 12."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-month"}),
    )
    year = forms.IntegerField(
        label=_("Year"),
        min_value=1900,
        max_value=2100,
        error_messages={
            "required": MESSAGE_BIRTH_DATE,
            "invalid": MESSAGE_BIRTH_DATE,
            "min_value": _("Enter the year with four digits, for example 1950."),
            "max_value": _("Enter the year with four digits, for example 1950."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "bday-year"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            data["birth_date"] = date(data["year"], data["month"], data["day"])
        except ValueError as error:
            raise forms.ValidationError(MESSAGE_NOT_A_DATE) from error
        return data


class AnswerForm(forms.Form):
    """The answer to one teach-back question, shaped by the question's kind."""

    round = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, question: Question, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        choices = list(enumerate(question.choices))
        kind = question.kind
        if kind == Question.Kind.SINGLE:
            field: forms.Field = forms.TypedChoiceField(
                choices=choices,
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": MESSAGE_CHOOSE_ONE,
                    "invalid_choice": MESSAGE_CHOOSE_ONE,
                },
            )
        elif kind == Question.Kind.MULTIPLE:
            field = forms.TypedMultipleChoiceField(
                choices=choices,
                coerce=int,
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                error_messages={
                    "required": MESSAGE_CHOOSE_SOME,
                    "invalid_choice": MESSAGE_CHOOSE_SOME,
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
            return [answer]
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
