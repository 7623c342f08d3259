"""Which RFC 3161 timestamps we believe: one rule for the seal and for the audit checkpoints.

A signature timestamp token sits in the unsigned attributes of a CMS signer info (a PDF seal's,
or a checkpoint's `.p7s`). Unsigned means the signature does not cover it: anyone can add,
swap or damage a token without breaking the signature, so a token proves a time only when

- it can be read (a TSTInfo inside a SignedData),
- its message imprint is the hash of that signer info's signature value (it stamps this
  signature, not another),
- its own signature is intact and valid, made by a certificate fit for timestamping, and
- that certificate chains to a root of SEAL_TSA_TRUSTED_CERTS, judged at the token's own time.

Only those roots: a token carries its authority's certificates, and they prove nothing about who
made it. Anything else gets a `Stamp` that names what is wrong, and no time.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from asn1crypto import cms, tsp
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.keys import load_certs_from_pemder
from pyhanko.sign.validation.generic_cms import (
    extract_tst_data_iter,
    message_imprint_checker,
    validate_tst_signed_data,
)
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from consent.record import loops

logger = logging.getLogger(__name__)

# How to judge the authority's certificate at `moment` against `roots` (the seal adds the
# chain and revocation data its PDF carries).
ContextFor = Callable[[datetime, list[Any]], ValidationContext]


class Stamp(StrEnum):
    """What a signature's timestamp is worth."""

    ABSENT = "absent"  # no token: the signature states its own time
    TRUSTED = "trusted"  # sound, stamps this signature, from an authority we trust
    UNTRUSTED = "untrusted"  # sound and stamps this signature, but from another authority
    MISMATCHED = "mismatched"  # a token made for something else
    INVALID = "invalid"  # its own signature does not verify: forged or altered
    DAMAGED = "damaged"  # cannot be read (cut, or not a timestamp token)


# A token that is there but wrong: nothing we write looks like this, the file was changed.
TAMPERED = frozenset({Stamp.MISMATCHED, Stamp.INVALID, Stamp.DAMAGED})


@dataclass(frozen=True)
class Timestamp:
    """The judgement of a signature's timestamp token."""

    stamp: Stamp
    # What the token states (believed only when trusted; given here so a report can name it).
    claimed_at: datetime | None = None
    authority: str = ""

    @property
    def time(self) -> datetime | None:
        """The time the token proves: only a trusted token's."""
        return self.claimed_at if self.stamp == Stamp.TRUSTED else None

    @property
    def tampered(self) -> bool:
        return self.stamp in TAMPERED

    def described(self, *, subject: str) -> str:
        """The judgement in a sentence: `subject` names what was stamped ("this checkpoint")."""
        values = {"subject": subject, "authority": self.authority or "?"}
        if self.claimed_at is not None:
            values["time"] = f"{self.claimed_at:%Y-%m-%d %H:%M:%S %Z}".strip()
        if self.stamp == Stamp.TRUSTED:
            return _("Timestamped at %(time)s by %(authority)s, a trusted authority.") % values
        if self.stamp == Stamp.UNTRUSTED:
            return (
                _(
                    "Timestamp from an untrusted authority (%(authority)s; not in "
                    "SEAL_TSA_TRUSTED_CERTS): its time is not believed."
                )
                % values
            )
        if self.stamp == Stamp.MISMATCHED:
            return (
                _(
                    "Timestamp does not cover %(subject)s: the token was made for other "
                    "content and put here afterwards."
                )
                % values
            )
        if self.stamp == Stamp.INVALID:
            return _("Timestamp is forged or altered: the token's own signature does not verify.")
        if self.stamp == Stamp.DAMAGED:
            return _("Timestamp is cut or damaged: the token cannot be read.")
        return _("Not timestamped.")


def certificates_loaded(paths: list[Any]) -> list[Any]:
    """The certificates in the PEM or DER files at `paths` (a file that fails is logged)."""
    roots: list[Any] = []
    for path in paths:
        try:
            roots.extend(load_certs_from_pemder([str(path)]))
        except (OSError, ValueError) as error:
            logger.warning("trusted certificate %s not loaded: %s", path, type(error).__name__)
    return roots


def tsa_trust_roots() -> list[Any]:
    """The roots of the timestamp authorities whose time we believe (SEAL_TSA_TRUSTED_CERTS).

    Only these: sealing does not record the configured authority's root anywhere verification
    could read it later, and a token's own certificates prove nothing about who made it.
    """
    return certificates_loaded(settings.SEAL_TSA_TRUSTED_CERTS)


def _plain_context(moment: datetime, roots: list[Any]) -> ValidationContext:
    return ValidationContext(
        trust_roots=roots, allow_fetching=False, moment=moment, retroactive_revinfo=True
    )


def _authority(token: cms.SignedData) -> str:
    """The common name of the certificate that signed the token, as the token names it."""
    try:
        sid = token["signer_infos"][0]["sid"].chosen
        for choice in token["certificates"] or []:
            certificate = choice.chosen
            if (
                isinstance(sid, cms.IssuerAndSerialNumber)
                and certificate.serial_number != sid["serial_number"].native
            ):
                continue
            names = certificate.subject.native
            return str(names.get("common_name") or certificate.subject.human_friendly)
    except Exception:  # a damaged token names no one
        return ""
    return ""


def _judged(
    token: cms.SignedData, signer_info: cms.SignerInfo, context_for: ContextFor
) -> Timestamp:
    try:
        info = token["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("not a TSTInfo")
        claimed = info["gen_time"].native
        imprint = info["message_imprint"]["hashed_message"].native
        algorithm = info["message_imprint"]["hash_algorithm"]["algorithm"].native
        expected = message_imprint_checker(signer_info)(algorithm)
    except Exception as error:  # asn1crypto raises many kinds on cut input
        logger.info("timestamp token unreadable: %s", type(error).__name__)
        return Timestamp(Stamp.DAMAGED)
    authority = _authority(token)
    if imprint != expected:
        return Timestamp(Stamp.MISMATCHED, claimed, authority)
    roots = tsa_trust_roots()
    try:
        status = TimestampSignatureStatus(
            **loops.run(
                validate_tst_signed_data(token, context_for(claimed, roots), lambda _a: expected)
            )
        )
    except Exception as error:  # pyHanko raises many kinds on damaged tokens
        logger.info("timestamp token not validated: %s", type(error).__name__)
        return Timestamp(Stamp.DAMAGED, claimed, authority)
    if not status.intact or not status.valid:
        return Timestamp(Stamp.INVALID, claimed, authority)
    # No roots: nothing is trusted (never the system's list, which pyHanko would fall back to).
    if not roots or not status.trusted:
        return Timestamp(Stamp.UNTRUSTED, claimed, authority)
    return Timestamp(Stamp.TRUSTED, status.timestamp, authority)


def timestamp_judged(
    signer_info: cms.SignerInfo, *, context_for: ContextFor | None = None
) -> Timestamp:
    """Judge the signature timestamp tokens of `signer_info` by the rule above.

    We write one token. With more, a wrong one is reported before a good one (somebody added
    it), and a trusted one before an untrusted one.
    """
    try:
        tokens = list(extract_tst_data_iter(signer_info, signed=False))
    except Exception as error:  # the unsigned attributes themselves are damaged
        logger.info("timestamp attribute unreadable: %s", type(error).__name__)
        return Timestamp(Stamp.DAMAGED)
    if not tokens:
        return Timestamp(Stamp.ABSENT)
    judgements = [_judged(token, signer_info, context_for or _plain_context) for token in tokens]
    order = [Stamp.DAMAGED, Stamp.INVALID, Stamp.MISMATCHED, Stamp.TRUSTED, Stamp.UNTRUSTED]
    return min(judgements, key=lambda judgement: order.index(judgement.stamp))
