"""Logging filters that keep secrets and patient data out of log files."""

import logging
import re

# A patient link is /link/<token>/; the token is a bearer secret and must never be written down.
_TOKEN_IN_PATH = re.compile(r"(/link/)[^/\s?\"']+")


class RedactPatientTokens(logging.Filter):
    """Replace the token of any patient link in a log line with a fixed marker."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_PATH.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = ()
        return True


class RedactSql(logging.Filter):
    """Replace a logged SQL statement and its parameters with a fixed text: the parameters hold
    names, dates of birth and free text. Only the query's duration and database remain."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.db.backends"):
            duration = getattr(record, "duration", None)
            record.msg = "SQL query (statement and parameters not logged)" + (
                f" in {duration:.3f} s" if isinstance(duration, int | float) else ""
            )
            record.args = ()
            for name in ("sql", "params"):
                if hasattr(record, name):
                    setattr(record, name, "[redacted]")
        return True


class RedactTemplateContext(logging.Filter):
    """Keep a template's failed variable lookup (its name and the template's) but not the
    exception, whose text prints the whole template context, patient data included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("django.template"):
            record.exc_info = None
            record.exc_text = None
        return True
