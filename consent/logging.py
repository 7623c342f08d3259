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
