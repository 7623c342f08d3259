"""The finalized consent record as a PDF, rendered once by WeasyPrint and then only stored.

`consent.services.signatures.session_finalize` calls `record_pdf_render` before it takes any
lock, with the record's data as it will be once countersigned (the countersignature not yet
stored); it stores the PDF only if the data is unchanged under the lock. The PDF is built from
`consent.selectors.session.record_data_get` through `templates/consent/pdf/record.html`.

The record shows text written by the patient and the physician. The template escapes all of
it, and WeasyPrint fetches nothing except through `StaticOnlyFetcher`: the project's own static
files and `data:` URIs (the drawn signatures). Anything else — `file://`, `http(s)://`, another
host, a path outside the static files — is refused, and a refused fetch stops the rendering, so
a record is never filed with a silently missing part.

Speed (issue 13): each thread keeps one WeasyPrint font configuration and the stylesheet parsed
once (`_render_tools`); a new font configuration per render loaded every font again and grew
the process. The tables are laid out from their first row's widths, nothing is laid out with
flex, and the icon arrays are drawn as a few paths (`icon_array_picture`), which keeps a
record's render near a plain document's of the same length (PERFORMANCE-NOTES.md).
"""

import base64
import hashlib
import io
import mimetypes
import os
import posixpath
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import segno
import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template import Library
from django.template.backends.django import DjangoTemplates
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.translation import gettext as _
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

from consent.models import ConsentSession, Signature
from consent.record.canonical import record_json_of
from consent.record.icon_array import icon_array_pdf_svg
from consent.record.seal import pdf_seal
from consent.rules import duration_text
from consent.selectors.session import RecordData, record_data_get, utc_moment

TEMPLATE = "consent/pdf/record.html"
STYLESHEET = "consent/pdf.css"
# The document's own origin. It never reaches the network: `.invalid` cannot resolve (RFC 2606)
# and the fetcher answers its static paths from disk. It only gives relative URLs a base.
DOCUMENT_ORIGIN = "https://consent-record.invalid"

# Template filters for the record, loaded as builtins of the record's own template engine.
register = Library()


class RefusedURL(ValueError):
    """WeasyPrint asked for something the record may not contain."""


class PdfRenderError(RuntimeError):
    """The record could not be rendered completely; nothing is filed."""


def _static_prefix() -> str:
    """The path under which static files are served, e.g. `/static/`."""
    path = urlsplit(settings.STATIC_URL).path or "/"
    return path if path.endswith("/") else path + "/"


def static_url(path: str) -> str:
    """The URL the record's HTML uses for one of the project's static files."""
    return f"{DOCUMENT_ORIGIN}{_static_prefix()}{path}"


def static_file_for(url: str) -> str:
    """Map a document-origin static URL to the file the staticfiles finders find, or refuse."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}".lower() != DOCUMENT_ORIGIN:
        raise RefusedURL(f"not the record's own origin: {url[:200]}")
    if parts.query or parts.fragment or "\\" in url or "\x00" in url:
        raise RefusedURL(f"unexpected URL form: {url[:200]}")
    path = unquote(parts.path)
    prefix = _static_prefix()
    if not path.startswith(prefix):
        raise RefusedURL(f"not a static file: {url[:200]}")
    relative = posixpath.normpath(path[len(prefix) :])
    if relative in ("", ".") or relative.startswith(("..", "/")) or "/../" in f"/{relative}/":
        raise RefusedURL(f"outside the static files: {url[:200]}")
    found = finders.find(relative)
    if not found:
        raise RefusedURL(f"no such static file: {url[:200]}")
    return str(found)


class StaticOnlyFetcher(weasyprint.URLFetcher):
    """A WeasyPrint URL fetcher that serves only the project's static files and `data:` URIs.

    WeasyPrint 70 calls `fetch(url, headers)` for every stylesheet, image and font the HTML
    refers to. Every other URL raises `RefusedURL`; with `fail_on_errors` WeasyPrint then stops
    the rendering (`FatalURLFetchingError`) instead of leaving the part out.
    """

    def __init__(self) -> None:
        super().__init__(
            timeout=1, allowed_protocols={"data"}, allow_redirects=False, fail_on_errors=True
        )

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            # urllib's DataHandler decodes it; the base class allows no other protocol.
            return super().fetch(url, headers)
        if scheme != "https":
            raise RefusedURL(f"refused URL scheme: {url[:200]}")
        filename = static_file_for(url)
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with open(filename, "rb") as file:
            body = file.read()
        return URLFetcherResponse(url, body, headers={"Content-Type": content_type})


# What the patient saw, in the patient's language, on a page in the institution's.


def _patient_language(context: Any) -> str:
    """The patient's language where it differs from the page's, else ""."""
    record = context.get("record")
    code = getattr(getattr(record, "language", None), "code", "") or ""
    return "" if code == context.get("language") else code


@register.simple_tag(takes_context=True)
def patient_text(context: Any, value: Any) -> str:
    """Text the patient saw, marked `lang` only when the patient's language is not the page's.

    A span per text is one more element for WeasyPrint to style and lay out (it costs as much
    as any other); a record of a patient who read the page's own language needs none."""
    code = _patient_language(context)
    if not code:
        return conditional_escape(value)
    return format_html('<span lang="{}">{}</span>', code, value)


@register.simple_tag(takes_context=True)
def patient_lang(context: Any) -> str:
    """` lang="…"` for an element holding only text the patient saw, when that language is not
    the page's; nothing otherwise."""
    code = _patient_language(context)
    return format_html(' lang="{}"', code) if code else ""


# Filters: the record's times are ISO 8601 UTC strings (see consent.record).


@register.filter
def utc(value: str | None) -> str:
    """`2026-03-05T14:02:11Z` as `2026-03-05 14:02:11 UTC`."""
    if not value:
        return "\u2014"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


@register.filter
def clock(value: str | None) -> str:
    """Only the time of day, for tables whose day is obvious: `14:02:11`."""
    if not value:
        return "\u2014"
    return f"{datetime.fromisoformat(value.replace('Z', '+00:00')):%H:%M:%S}"


@register.filter
def long_date(value: str | None) -> str:
    """`1948-03-27` as `27 Mar 1948`: unambiguous whatever the reader's habits."""
    if not value:
        return "\u2014"
    return f"{date.fromisoformat(value):%d %b %Y}".lstrip("0")


@register.filter
def duration(seconds: int | None) -> str:
    """Seconds as `4 min 05 s` or `45 s`; a dash where no time was spent (never opened)."""
    return duration_text(seconds or None)


@register.filter
def svg_data_uri(svg: str | None) -> str:
    """An inline SVG as an image URI: WeasyPrint draws it the same, without styling each node."""
    if not svg:
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(str(svg).encode("utf-8")).decode("ascii")


@register.filter
def icon_array_picture(highlighted: float | None) -> str:
    """The record's picture of 100 people, `highlighted` of them marked, as an image URI.

    The same figures as the patient's page (consent.record.icon_array), drawn as four paths
    instead of 200 shapes: WeasyPrint draws each SVG node in Python, and the node-per-figure
    picture cost a tenth of a record's render. Cached: the same figure draws the same picture."""
    if highlighted is None:
        return ""
    return _icon_array_uri(float(highlighted))


@cache
def _icon_array_uri(highlighted: float) -> str:
    return svg_data_uri(icon_array_pdf_svg(highlighted))


# The audit trail as lines of fixed-width columns in one preformatted block: a table cell per
# value made it a fifth of the record's boxes and of its render (issue 13).
_AUDIT_ACTOR_WIDTH = 26  # longer actors push their own line's later columns, nothing is cut
_AUDIT_ROLE_WIDTH = 14


def _audit_widths(events: list[Any]) -> tuple[int, int]:
    actor = max([len(_("Actor")), *(len(str(e.actor_label)) for e in events)])
    role = max([len(_("Role")), *(len(str(e.role_label)) for e in events)])
    return min(actor, _AUDIT_ACTOR_WIDTH), min(role, _AUDIT_ROLE_WIDTH)


def _audit_line(when: str, actor: str, role: str, action: str, widths: tuple[int, int]) -> str:
    return f"{when:<19}  {actor:<{widths[0]}}  {role:<{widths[1]}}  {action}".rstrip()


@register.filter
def audit_header(events: list[Any]) -> str:
    """The audit trail's column names, aligned with `audit_lines`."""
    return _audit_line(_("Time (UTC)"), _("Actor"), _("Role"), _("Action"), _audit_widths(events))


@register.filter
def audit_lines(events: list[Any]) -> str:
    """One line per audit event: time (UTC), actor, role and action in aligned columns."""
    widths = _audit_widths(events)
    return "\n".join(
        _audit_line(
            _utc_plain(event.occurred_at),
            " ".join(str(event.actor_label).split()),
            " ".join(str(event.role_label).split()),
            str(event.action),
            widths,
        )
        for event in events
    )


def _utc_plain(value: str | None) -> str:
    """`2026-03-05T14:02:11Z` as `2026-03-05 14:02:11` (the column says UTC)."""
    if not value:
        return "\u2014"
    return f"{datetime.fromisoformat(value.replace('Z', '+00:00')):%Y-%m-%d %H:%M:%S}"


@cache
def _engine() -> DjangoTemplates:
    """The record's template engine: the project's templates, no request, these filters."""
    return DjangoTemplates(
        {
            "NAME": "consent-record-pdf",
            "DIRS": [settings.BASE_DIR / "templates"],
            "APP_DIRS": False,
            "OPTIONS": {"autoescape": True, "builtins": ["consent.record.pdf"]},
        }
    )


def verification_url(record_id: str) -> str:
    """The staff page that checks this record (`SITE_URL` + the record's verification path)."""
    return settings.SITE_URL + reverse("staff:record_verify", kwargs={"record_id": record_id})


def qr_data_uri(url: str) -> str:
    """A QR code of the URL as a PNG data URI, drawn by segno (no fetch, no network).

    A bitmap, not SVG: WeasyPrint lays out an SVG of a thousand modules far more slowly, and
    at 8 pixels a module the code prints sharp at its 21 mm."""
    return segno.make(url, error="m").png_data_uri(scale=8, border=2, dark="#000", light="#fff")


def record_html(data: RecordData, record_id: str, record_sha256: str = "") -> str:
    """The record's HTML, as WeasyPrint will lay it out."""
    url = verification_url(record_id)
    context = {
        "record": data,
        "record_id": record_id,
        "record_sha256": record_sha256,
        "verification_url": url,
        "verification_qr": qr_data_uri(url),
        "language": settings.LANGUAGE_CODE,
    }
    with translation.override(settings.LANGUAGE_CODE):
        return _engine().get_template(TEMPLATE).render(context)


RECORD_ATTACHMENT = "consent-record.json"
# Runs of whitespace between tags, left by the template's indentation: one space lays out the
# same (nothing in the record is preformatted) and the HTML parser reads a quarter less.
_BETWEEN_TAGS = re.compile(r">\s+<")


def _compact(html: str) -> str:
    return _BETWEEN_TAGS.sub("> <", html)


@dataclass(frozen=True)
class _RenderTools:
    stylesheet_version: tuple[str, int, int]
    font_config: FontConfiguration
    stylesheet: weasyprint.CSS


_THREAD = threading.local()


def _render_tools() -> _RenderTools:
    """This thread's font configuration and the record's stylesheet, parsed once.

    WeasyPrint makes a new font configuration for every document unless given one: it loads
    the fontconfig configuration and every font again, which cost a tenth of a render and grew
    the process render after render. Pango's font map is not shared between threads, so each
    thread has its own. The stylesheet is read through `StaticOnlyFetcher` like any other part,
    and read again when its file changes (a deployment, or a developer editing it).
    """
    filename = static_file_for(static_url(STYLESHEET))
    stat = os.stat(filename)
    version = (filename, stat.st_mtime_ns, stat.st_size)
    tools: _RenderTools | None = getattr(_THREAD, "tools", None)
    if tools is None or tools.stylesheet_version != version:
        font_config = tools.font_config if tools is not None else FontConfiguration()
        stylesheet = weasyprint.CSS(
            url=static_url(STYLESHEET), url_fetcher=StaticOnlyFetcher(), font_config=font_config
        )
        tools = _THREAD.tools = _RenderTools(version, font_config, stylesheet)
    return tools


def pdf_a3b_render(
    html: str,
    *,
    identifier: str,
    attachment_name: str,
    attachment_description: str,
    attached: bytes,
    moment: datetime,
) -> bytes:
    """Lay out `html` as PDF/A-3b with `attached` as its one Data attachment, unsealed.

    The record and its addenda alike: the document depends only on its data (its creation
    date is `moment`, its file identifier `identifier`), fetches nothing but our own static
    files and data URIs, and a refused fetch stops it (`PdfRenderError`).
    """
    tools = _render_tools()
    fetcher = StaticOnlyFetcher()
    document = weasyprint.HTML(
        string=_compact(html), base_url=urljoin(DOCUMENT_ORIGIN, "/"), url_fetcher=fetcher
    )
    attachment = weasyprint.Attachment(
        file_obj=io.BytesIO(attached),
        name=attachment_name,
        description=attachment_description,
        created=moment,
        modified=moment,
        relationship="Data",
        url_fetcher=fetcher,
    )
    try:
        pdf: bytes = document.write_pdf(
            stylesheets=[tools.stylesheet],
            font_config=tools.font_config,
            finisher=_one_af_entry_per_file,
            pdf_identifier=identifier.encode("ascii"),
            pdf_variant="pdf/a-3b",
            attachments=[attachment],
        )
    except FatalURLFetchingError as error:
        # A BaseException in WeasyPrint; as an Exception it rolls the finalization back cleanly.
        raise PdfRenderError(str(error)) from error
    return pdf


def _finalization_time(session: ConsentSession) -> datetime:
    """The countersignature's time: dates inside the PDF never depend on when it was drawn."""
    signature = (
        Signature.objects.filter(session=session, kind=Signature.Kind.COUNTERSIGNATURE)
        .values_list("signed_at", flat=True)
        .first()
    )
    return signature or session.finalized_at or timezone.now()


def _one_af_entry_per_file(document: Any, pdf: Any) -> None:
    """Drop the repeated /AF entries WeasyPrint 70 writes for each attachment.

    Its PDF/A-3 step lists every file once from the EmbeddedFiles name tree and once more as a
    file specification, so the catalog's /AF names the same object twice. ISO 19005-3 (6.8)
    wants each associated file once; veraPDF would not object, a careful reader might.
    """
    entries = pdf.catalog.get("AF")
    if entries is None:
        return
    unique = {str(entry): entry for entry in reversed(entries)}  # references, as written
    entries[:] = reversed(list(unique.values()))


def record_document_pdf(source: ConsentSession | RecordData, record_id: str) -> bytes:
    """Render the consent record of a session being finalized as PDF bytes, unsealed.

    The document is PDF/A-3b with the canonical record attached. It depends only on the data:
    the PDF's creation date is the finalization time and its file identifier is the record id.
    The record's data is gathered once, for both the attachment and the page (or given:
    finalization draws the record from the data it checks again under its lock).
    """
    if isinstance(source, RecordData):
        data = source
        moment = utc_moment(data.finalized_at) or timezone.now()
    else:
        data = record_data_get(session=source)
        moment = _finalization_time(source)
    canonical = record_json_of(data, record_id)
    digest = hashlib.sha256(canonical).hexdigest()
    return pdf_a3b_render(
        record_html(data, record_id, digest),
        identifier=record_id,
        attachment_name=RECORD_ATTACHMENT,
        attachment_description=f"Canonical consent record {record_id}, SHA-256 {digest}",
        attached=canonical,
        moment=moment,
    )


def record_pdf_render(source: ConsentSession | RecordData, record_id: str) -> bytes:
    """The finalized record's PDF: the document, sealed by the institution (PAdES).

    The seal is an incremental update: the stored file begins with the unsealed document's
    exact bytes, then the signature.
    """
    return pdf_seal(record_document_pdf(source, record_id), record_id=record_id)
