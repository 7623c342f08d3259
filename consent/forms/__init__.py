"""Forms per room (patient, staff, audit): posted text in, clean values or plain messages out."""

from typing import cast

from django import forms


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A choice field of the form, to fill in its choices (the type stubs say only Field)."""
    return cast(forms.ChoiceField, form.fields[name])
