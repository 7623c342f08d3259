"""Staff log-in forms: the code of the second factor (an authenticator app or a recovery code)."""

from django import forms
from django.utils.translation import gettext_lazy as _

CODE_MAX = 16
NOT_A_CODE = _("That is not a code: a code has 6 digits (a recovery code 8 letters and digits).")


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX * 2,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
        error_messages={
            "required": _("Type the code to log in."),
            "max_length": NOT_A_CODE,
        },
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) > CODE_MAX:
            raise forms.ValidationError(NOT_A_CODE)
        return code
