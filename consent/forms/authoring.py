"""The content editors' forms: a pack to upload, and publishing a draft."""

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from consent.services.authoring import MAX_PACK_BYTES


class PackUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Content pack (TOML file)"),
        help_text=_("One procedure in one language, as a .toml file (at most %(size)s).")
        % {"size": filesizeformat(MAX_PACK_BYTES)},
        widget=forms.ClearableFileInput(attrs={"accept": ".toml"}),
        error_messages={
            "required": _("Choose a content pack file (.toml) to upload."),
            "empty": _("This file is empty: choose the content pack's .toml file."),
        },
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        size = upload.size or 0
        if size > MAX_PACK_BYTES:
            raise forms.ValidationError(
                _("This file is %(size)s; a content pack may be at most %(limit)s."),
                params={
                    "size": filesizeformat(size),
                    "limit": filesizeformat(MAX_PACK_BYTES),
                },
            )
        return upload

    def data_and_name(self) -> tuple[bytes, str]:
        upload: UploadedFile = self.cleaned_data["file"]
        return upload.read(), upload.name or ""


class PublishForm(forms.Form):
    publish_key = forms.UUIDField(widget=forms.HiddenInput)
    unreviewed = forms.BooleanField(
        required=False,
        label=_(
            "I publish this text as “not clinically reviewed”: it will be marked so on every "
            "page and record that shows it."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["publish_key"].error_messages = {
            "required": _("This form is out of date. Open the draft again and publish from there."),
            "invalid": _("This form is out of date. Open the draft again and publish from there."),
        }
