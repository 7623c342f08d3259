"""The auditor's records list: its filter, search and sort form (a GET form: it changes nothing)."""

from datetime import date
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from consent.forms import choice_field
from consent.models import ConsentSession, ProcedureVersion
from consent.roles import PHYSICIAN
from consent.rules import DECISIONS
from consent.selectors.analytics import VersionChoice
from consent.selectors.records import SORTS

SEARCH_MAX = 100


def _select(**kwargs: Any) -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"}, **kwargs)


class RecordFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Patient name, MRN or record id"),
        required=False,
        max_length=SEARCH_MAX,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm", "type": "search"}),
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )
    date_from = forms.DateField(
        label=_("Created from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
        error_messages={"invalid": _("Enter the first day as a date, like 2026-01-31.")},
    )
    date_to = forms.DateField(
        label=_("Created until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
        error_messages={"invalid": _("Enter the last day as a date, like 2026-12-31.")},
    )
    version = forms.TypedChoiceField(
        label=_("Procedure version"), required=False, coerce=int, empty_value=None, widget=_select()
    )
    physician = forms.TypedChoiceField(
        label=_("Physician"), required=False, coerce=int, empty_value=None, widget=_select()
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Every status")), *ConsentSession.Status.choices],
        widget=_select(),
    )
    decision = forms.ChoiceField(
        label=_("Decision"),
        required=False,
        choices=[("", _("Any decision")), *DECISIONS],
        widget=_select(),
    )
    flagged = forms.BooleanField(
        label=_("Only with flagged items"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        choices=[(key, label) for key, (label, _fields) in SORTS.items()],
        widget=_select(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = ProcedureVersion.objects.order_by("slug", "language", "-pk")
        choice_field(self, "version").choices = [("", _("Every version"))] + [
            (v.pk, f"{v.slug} {v.version} ({v.language})") for v in versions
        ]
        doctors = (
            get_user_model()
            .objects.filter(groups__name=PHYSICIAN)
            .order_by("last_name", "first_name", "username")
        )
        choice_field(self, "physician").choices = [("", _("Every physician"))] + [
            (d.pk, d.get_full_name() or d.get_username()) for d in doctors
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        first: date | None = data.get("date_from")
        last: date | None = data.get("date_to")
        if first and last and first > last:
            self.add_error("date_to", _("The last day comes before the first day."))
        return data

    def filters(self) -> dict[str, Any]:
        """The valid filters, with empty ones left out (call after is_valid)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return {key: value for key, value in data.items() if value not in (None, "", False)}


ERROR_VERSION_UNKNOWN = _("There is no such procedure version. Choose one from the list.")


class VersionForm(forms.Form):
    """The procedure version to show, chosen among those already loaded (no second query)."""

    version = forms.TypedChoiceField(
        label=_("Procedure version"),
        coerce=int,
        error_messages={"invalid_choice": ERROR_VERSION_UNKNOWN},
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, choices: list[VersionChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice_field(self, "version").choices = [(c.version.pk, _choice_label(c)) for c in choices]

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if not valid:
            # The message shown above the figures names the problem; the field points to it.
            self.fields["version"].widget.attrs.update(
                {"class": "form-select is-invalid", "aria-describedby": "version-error"}
            )
        return valid


def _choice_label(choice: VersionChoice) -> str:
    sessions = ngettext("%(n)s session", "%(n)s sessions", choice.sessions) % {"n": choice.sessions}
    return f"{choice.version} · {sessions}"
