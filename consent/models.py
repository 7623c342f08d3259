"""Data of the consent flow: procedure versions (imported content packs), consent sessions,
patient links, what the patient did, and the audit event log.

State changes are made by `consent.services`; the models only hold data and invariants.
"""

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent import clock


class ProcedureVersion(models.Model):
    """One imported content pack: immutable, identified by the SHA-256 of its canonical content."""

    slug = models.SlugField(max_length=100)
    language = models.CharField(max_length=35)
    version = models.CharField(max_length=100)
    title = models.TextField()
    summary = models.TextField()
    # The clinical review, from the pack (docs/content-packs.md): who approved the text and on
    # which date; both empty while it is not reviewed (shown everywhere as "Not clinically
    # reviewed: for demonstration only", and refused for new sessions outside DEBUG unless
    # CONSENT_ALLOW_UNREVIEWED_CONTENT, consent/services/sessions.py).
    reviewed_by = models.TextField(blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    content_hash = models.CharField(max_length=64, unique=True)
    # The canonical parsed pack, exactly what was hashed: the version can be re-verified forever.
    content = models.JSONField()
    source_name = models.CharField(max_length=300)
    imported_at = models.DateTimeField(auto_now_add=True)
    # The version this one translates (same slug, another language), as the pack declares with
    # `translation_of` (docs/content-packs.md); None for a source text. Import checks that the
    # translation matches its source's keys and figures.
    translation_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="translations",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "language", "version"], name="unique_procedure_version"
            )
        ]
        ordering = ["slug", "language", "-imported_at"]
        # The content editors' workbench (consent/views/authoring/): upload, preview, publish.
        permissions = [
            ("publish_procedureversion", "Can upload, preview and publish content packs")
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language}, {self.version})"

    @property
    def clinically_reviewed(self) -> bool:
        """Reviewed by someone on a date, as the hashed pack content says too (a row rewritten
        behind the app's back to claim a review the pack never had is not reviewed)."""
        return (
            bool(self.reviewed_by)
            and self.reviewed_on is not None
            and self.content.get("reviewed_by") == self.reviewed_by
            and self.content.get("reviewed_on") == self.reviewed_on.isoformat()
        )


class Section(models.Model):
    version = models.ForeignKey(ProcedureVersion, on_delete=models.PROTECT, related_name="sections")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    title = models.TextField()
    body = models.TextField(help_text="Markdown, as written in the pack.")
    body_html = models.TextField(help_text="Rendered and sanitized at import.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_section_key"),
            models.UniqueConstraint(fields=["version", "position"], name="unique_section_position"),
        ]

    def __str__(self) -> str:
        return self.title


class Risk(models.Model):
    class Frequency(models.TextChoices):
        MOST_COMMON = "most-common", _("Most common")
        COMMON = "common", _("Common")
        UNCOMMON = "uncommon", _("Uncommon")
        RARE = "rare", _("Rare")
        VERY_RARE = "very-rare", _("Very rare")

    version = models.ForeignKey(ProcedureVersion, on_delete=models.PROTECT, related_name="risks")
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=100)
    name = models.TextField()
    description = models.TextField()
    frequency = models.CharField(max_length=20, choices=Frequency.choices)
    frequency_text = models.TextField()
    # Exactly the pack's number (never rounded on the way in), or None where it gives none.
    max_per_100 = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_risk_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Alternative(models.Model):
    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="alternatives"
    )
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=100)
    name = models.TextField()
    description = models.TextField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_alternative_key"),
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("One answer")
        MULTIPLE = "multiple", _("Several answers")
        TRUE_FALSE = "true-false", _("True or false")
        FREE_TEXT = "free-text", _("In your own words")

    version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="questions"
    )
    position = models.PositiveIntegerField()
    key = models.CharField(max_length=100)
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="questions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    prompt = models.TextField()
    choices = models.JSONField(default=list, blank=True)
    # A list of choice indexes (single, multiple), a boolean (true-false) or null (free-text).
    correct = models.JSONField(null=True, blank=True)
    explanation = models.TextField()
    key_points = models.JSONField(default=list, blank=True)
    # The right fact in one statement, said wherever the item is flagged; empty: built from
    # the right answer (`Wording.fact_text`).
    fact = models.TextField(blank=True)
    # Why each wrong choice is wrong, parallel to `choices` ("" where the pack gives nothing).
    choice_feedback = models.JSONField(default=list, blank=True)
    # Other wordings of the same fact, asked after a re-teach: each a dict with prompt,
    # choices, correct, and optionally explanation and choice_feedback (docs/content-packs.md).
    variants = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="unique_question_key"),
            models.UniqueConstraint(
                fields=["version", "position"], name="unique_question_position"
            ),
        ]

    def __str__(self) -> str:
        return self.prompt

    @property
    def wording_count(self) -> int:
        return 1 + len(self.variants or [])

    def wording(self, variant: int = 0) -> "Wording":
        """The question as worded by the pack (0) or by one of its variants (1, 2, ...)."""
        variants = self.variants or []
        if not 0 < variant <= len(variants):
            return Wording(
                variant=0,
                kind=self.kind,
                prompt=self.prompt,
                choices=list(self.choices or []),
                correct=self.correct,
                explanation=self.explanation,
                choice_feedback=list(self.choice_feedback or []),
                fact=self.fact,
            )
        other = variants[variant - 1]
        return Wording(
            variant=variant,
            kind=self.kind,
            prompt=str(other["prompt"]),
            choices=list(other.get("choices", [])),
            correct=other.get("correct"),
            explanation=str(other.get("explanation", self.explanation)),
            choice_feedback=list(other.get("choice_feedback", [])),
            fact=self.fact,
        )

    def wording_for_round(self, round_number: int) -> "Wording":
        """Round 1 asks the pack's wording; each re-ask after a re-teach the next variant."""
        return self.wording((max(1, round_number) - 1) % self.wording_count)


@dataclass(frozen=True)
class Wording:
    """One wording of a teach-back question: what the patient reads and how it is graded."""

    variant: int
    kind: str
    prompt: str
    choices: list[str]
    # Indexes into `choices` (single, multiple), a boolean (true-false) or None (free text).
    correct: Any
    explanation: str
    choice_feedback: list[str]
    fact: str

    def feedback_for(self, index: int) -> str:
        """Why the choice at `index` is wrong, where the pack says so."""
        if 0 <= index < len(self.choice_feedback):
            return str(self.choice_feedback[index])
        return ""

    @property
    def right_choices(self) -> list[str]:
        if not isinstance(self.correct, list):
            return []
        return [self.choices[i] for i in self.correct if 0 <= i < len(self.choices)]

    @property
    def fact_text(self) -> str:
        """The right fact as one statement, never a false statement alone: the pack's `fact`,
        else built from the right answer."""
        if self.fact:
            return self.fact
        if self.kind == Question.Kind.TRUE_FALSE:
            if self.correct:
                return self.prompt
            return str(_("Not true: “%(statement)s”")) % {"statement": self.prompt}
        if self.kind == Question.Kind.FREE_TEXT:
            return self.explanation
        return f"{self.prompt} {'; '.join(self.right_choices)}"


class PackDraft(models.Model):
    """A content pack uploaded in the workbench: kept as uploaded, never live until published.

    The bytes are kept exactly (their SHA-256 names them); errors, readability, the preview and
    the comparison are worked out from them whenever the draft is shown. Publishing imports them
    through the importer (consent/services/authoring.py), once: `publish_key` is the one-time
    key of the publish form, so a replayed form publishes nothing more.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    file_name = models.CharField(max_length=200)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=clock.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    publish_key = models.UUIDField(default=uuid.uuid4, editable=False)
    published_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    published_unreviewed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.sha256[:12]})"


def choice_order_secret_new() -> str:
    return secrets.token_hex(32)


class ConsentSession(models.Model):
    """One patient's consent discussion for one pinned procedure version."""

    class Status(models.TextChoices):
        CREATED = "created", _("Created")
        REVIEWING = "reviewing", _("Patient reviewing")
        READY_FOR_DISCUSSION = "ready_for_discussion", _("Ready for discussion")
        ATTESTED = "attested", _("Attested by physician")
        SIGNED = "signed", _("Signed by patient")
        DECLINED = "declined", _("Declined by patient")
        FINALIZED = "finalized", _("Finalized")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    # Staff URLs name a session by this opaque id, never by a guessable number.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient_name = models.CharField(_("patient's full name"), max_length=200)
    patient_birth_date = models.DateField(_("date of birth"))
    patient_record_number = models.CharField(_("record number"), max_length=50, blank=True)
    procedure_version = models.ForeignKey(
        ProcedureVersion, on_delete=models.PROTECT, related_name="consent_sessions"
    )
    physician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_sessions"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    reviewing_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    # Teach-to-goal rounds are pinned when the session is created, like the procedure version.
    max_reteach = models.PositiveSmallIntegerField()
    # Where the patient is in the reading part, so they come back to the same page.
    current_section = models.PositiveIntegerField(default=1)
    # When the patient first saw a section of the procedure: from then on its language is the
    # one they read, and can no longer be switched (consent/services/sessions.py).
    content_shown_at = models.DateTimeField(null=True, blank=True)
    sections_done = models.BooleanField(default=False)
    attested_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    # Keys the seeds that order each question's choices for this patient (never shown).
    choice_order_secret = models.CharField(
        max_length=64, default=choice_order_secret_new, editable=False
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_all_sessions", "Can view every physician's consent sessions")]
        indexes = [
            models.Index(fields=["physician", "status"]),
            # The auditor's records list: newest first, narrowed by status, version, physician.
            # Newest first with the id as tie-break, the list's whole order: its pages' ids are
            # read from this index alone (an index-only scan, however deep the page).
            models.Index(fields=["created_at", "id"], name="session_created_id_idx"),
            models.Index(fields=["status", "created_at"], name="session_status_created_idx"),
            models.Index(
                fields=["procedure_version", "created_at"], name="session_version_created_idx"
            ),
            models.Index(fields=["physician", "created_at"], name="session_doctor_created_idx"),
            models.Index(fields=["patient_record_number"], name="session_mrn_idx"),
            models.Index(fields=["patient_name", "id"], name="session_patient_name_idx"),
        ]

    def __str__(self) -> str:
        return f"Consent session {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A finalized record never changes, whatever code path tries (services check first).
        if self.pk is not None and _session_finalized(self.pk):
            raise RecordFinalized(f"consent session {self.pk} is finalized")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RecordFinalized("consent sessions are never deleted")

    @property
    def language(self) -> str:
        return self.procedure_version.language


class RecordFinalized(Exception):
    """An attempt to change or delete something that belongs to a finalized record."""


def _session_finalized(session_id: int) -> bool:
    return ConsentSession.objects.filter(
        pk=session_id, status=ConsentSession.Status.FINALIZED
    ).exists()


# The statuses in which the patient's answers may still be written (the lifecycle's ANSWER
# row allows fewer); the database triggers hold the same line.
ANSWERS_OPEN = (ConsentSession.Status.CREATED, ConsentSession.Status.REVIEWING)


class FrozenWithSession(models.Model):
    """Rows that belong to a consent session and freeze with it once it is finalized."""

    # Each subclass has a `session` foreign key.
    session_id: int
    # True for the patient's answers and reading times, frozen as soon as the answers lock.
    frozen_with_answers: ClassVar[bool] = False

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._refuse_if_frozen()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._refuse_if_frozen()
        return super().delete(*args, **kwargs)

    def _refuse_if_frozen(self) -> None:
        status = (
            ConsentSession.objects.filter(pk=self.session_id)
            .values_list("status", flat=True)
            .first()
        )
        if status == ConsentSession.Status.FINALIZED:
            raise RecordFinalized(f"{self._meta.label} of a finalized consent session")
        if self.frozen_with_answers and status is not None and status not in ANSWERS_OPEN:
            raise RecordFinalized(f"{self._meta.label}: the patient's answers are locked")


class PatientLink(models.Model):
    """A bearer link to one consent session. Only the SHA-256 of the token is stored."""

    session = models.ForeignKey(ConsentSession, on_delete=models.PROTECT, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    failed_birth_date_tries = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    # Why staff made this link (required once the physician has attested: a new link then
    # lets someone sign as the patient, so the record says who made it and why).
    issue_reason = models.TextField(blank=True)
    # Made after the physician's attestation (the record lists these links).
    after_attestation = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Patient link {self.pk}"


class SectionView(FrozenWithSession):
    """Time a patient spent on one section, summed over every visit until the answers lock."""

    frozen_with_answers = True

    session = models.ForeignKey(
        ConsentSession, on_delete=models.PROTECT, related_name="section_views"
    )
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="+")
    seconds = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField(auto_now_add=True)
    last_viewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "section"], name="unique_section_view")
        ]

    def __str__(self) -> str:
        return f"{self.section} ({self.seconds} s)"


class Attempt(FrozenWithSession):
    """One answer to one teach-back question. Attempts are never changed, only added."""

    frozen_with_answers = True

    session = models.ForeignKey(ConsentSession, on_delete=models.PROTECT, related_name="attempts")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempts")
    # 1 is the first try; round n + 1 follows the n-th re-teach.
    round = models.PositiveSmallIntegerField()
    # Choice indexes of the wording shown (`Question.wording(variant)`), true/false, or text.
    answer = models.JSONField()
    # Which wording was asked: 0 the pack's, n its n-th variant.
    variant = models.PositiveSmallIntegerField(default=0)
    # The choices' indexes in the order the patient saw them, top first (empty for true-false
    # and free text), and the seed that ordered them (consent/choice_order.py).
    shown_order = models.JSONField(default=list, blank=True)
    order_seed = models.BigIntegerField(null=True, blank=True)
    # Null for free-text answers, which the physician assesses.
    is_correct = models.BooleanField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question__position", "round"]
        constraints = [
            # A double-submitted or replayed form can never store a second answer for a round.
            models.UniqueConstraint(
                fields=["session", "question", "round"], name="unique_attempt_round"
            )
        ]

    def __str__(self) -> str:
        return f"Attempt {self.round} at {self.question.key}"


class PatientQuestion(FrozenWithSession):
    """A question the patient wrote for the physician."""

    session = models.ForeignKey(
        ConsentSession, on_delete=models.PROTECT, related_name="patient_questions"
    )
    text = models.TextField()
    asked_from = models.CharField(max_length=200, blank=True)
    # Identifies the form the question was written in, so that sending it twice stores it once.
    form_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "form_id"], name="unique_question_form")
        ]

    def __str__(self) -> str:
        return f"Patient question {self.pk}"


class QuestionReview(FrozenWithSession):
    """The physician's review of a teach-back question: key points covered, how it was resolved."""

    session = models.ForeignKey(
        ConsentSession, on_delete=models.PROTECT, related_name="question_reviews"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="+")
    # Indexes into the question's key_points that the patient's own words covered (free text).
    covered_key_points = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "question"], name="unique_question_review")
        ]

    def __str__(self) -> str:
        return f"Review of {self.question.key}"


class Discussion(FrozenWithSession):
    """What the physician records of the conversation held in person."""

    session = models.OneToOneField(
        ConsentSession, on_delete=models.PROTECT, related_name="discussion"
    )
    # Keys of the pack's sections whose points the patient explained back in person.
    verbal_teachback = models.JSONField(default=list, blank=True)
    verbal_teachback_notes = models.TextField(blank=True)
    # Keys of the pack's alternatives that were discussed.
    alternatives_discussed = models.JSONField(default=list, blank=True)
    alternatives_notes = models.TextField(blank=True)
    interpreter_name = models.CharField(max_length=200, blank=True)
    interpreter_language = models.CharField(max_length=100, blank=True)
    witness_name = models.CharField(max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Discussion of {self.session}"


class Signature(FrozenWithSession):
    """One signature with its manifestation (21 CFR 11.50): printed name, date-time, meaning."""

    class Kind(models.TextChoices):
        ATTESTATION = "attestation", _("Physician attestation")
        PATIENT_CONSENT = "patient_consent", _("Patient consent")
        PATIENT_REFUSAL = "patient_refusal", _("Patient informed refusal")
        INTERPRETER = "interpreter", _("Interpreter")
        WITNESS = "witness", _("Witness")
        COUNTERSIGNATURE = "countersignature", _("Physician countersignature")

    class Method(models.TextChoices):
        PASSWORD = "password", _("account password re-entered")
        DRAWN = "drawn", _("drawn signature and typed name")
        TYPED = "typed", _("typed full name")

    session = models.ForeignKey(ConsentSession, on_delete=models.PROTECT, related_name="signatures")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    printed_name = models.CharField(max_length=200)
    meaning = models.TextField()
    statement = models.TextField()
    method = models.CharField(max_length=20, choices=Method.choices)
    image = models.BinaryField(null=True, blank=True, help_text="The drawn signature, as PNG.")
    signed_at = models.DateTimeField()
    # SHA-256 of the evidence snapshot this signature vouched for (consent/canonical.py).
    snapshot_hash = models.CharField(max_length=64, blank=True)
    # Where it was signed: a hash of the browser's session key (never the key), the address
    # and the browser (as the audit log records them).
    browser_session_sha256 = models.CharField(max_length=64, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    client = models.CharField(max_length=300, blank=True)
    # A patient's signature made in a browser where a staff account was logged in: flagged in
    # the record, with that account.
    staff_browser = models.BooleanField(default=False)
    staff_browser_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The patient's decision signed by their legal representative (printed_name is then the
    # representative's name, the same as here); both empty when the patient signed.
    representative_name = models.CharField(max_length=200, blank=True)
    representative_relationship = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="unique_signature_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.printed_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RecordFinalized("a signature is never changed once given")
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """The finalized record of a consent session and its PDF, stored once, never re-rendered."""

    session = models.OneToOneField(ConsentSession, on_delete=models.PROTECT, related_name="record")
    record_id = models.CharField(max_length=40, unique=True)
    pdf = models.FileField(upload_to="records/%Y/%m/")
    pdf_sha256 = models.CharField(max_length=64)
    # The canonical record (docs/record-format.md), exactly as hashed and attached to the PDF.
    record_json = models.TextField(blank=True)
    record_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField()
    finalized_at = models.DateTimeField()
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"Record {self.record_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RecordFinalized("a finalized record is never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RecordFinalized("a finalized record is never deleted")


class Addendum(models.Model):
    """A later statement linked to a finalized record: a withdrawal of consent or a correction."""

    class Kind(models.TextChoices):
        WITHDRAWAL = "withdrawal", _("Withdrawal of consent")
        CORRECTION = "correction", _("Correction")

    record = models.ForeignKey(ConsentRecord, on_delete=models.PROTECT, related_name="addenda")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Given by the service: the same moment is printed in the addendum's sealed document.
    created_at = models.DateTimeField(default=clock.now)
    # The addendum's own sealed document (consent/record/addendum.py, docs/record-format.md
    # "Addendum document"): its id (CR-2026-000123-A1), its canonical JSON as hashed and
    # attached to its PDF, and the PDF. Empty only on addenda made before addenda were sealed.
    addendum_id = models.CharField(max_length=48, null=True, blank=True, unique=True)
    addendum_json = models.TextField(blank=True)
    addendum_sha256 = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to="addenda/%Y/%m/", blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(default=0)
    # A withdrawal may carry the patient's signature: drawn (PNG) and the typed name. Stored
    # here, never as a Signature row: a finalized session takes no new signatures.
    patient_printed_name = models.CharField(max_length=200, blank=True)
    patient_signature_image = models.BinaryField(null=True, blank=True)
    patient_signed_at = models.DateTimeField(null=True, blank=True)
    # The form's one-time key: a replayed or double-submitted POST finds the addendum it made.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.record}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RecordFinalized("an addendum is never changed; add another")
        super().save(*args, **kwargs)


class AuditEvent(models.Model):
    """One thing that happened. Written only by `consent.audit.audit_record`."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        PHYSICIAN = "physician", _("Physician")
        AUDITOR = "auditor", _("Auditor")
        INTERPRETER = "interpreter", _("Interpreter")
        WITNESS = "witness", _("Witness")
        CONTENT_EDITOR = "content_editor", _("Content editor")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

    # The hash chain (consent/chain.py): position, the previous event's hash, this event's hash.
    seq = models.PositiveBigIntegerField(unique=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    role = models.CharField(max_length=20, choices=Role.choices)
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    session = models.ForeignKey(
        ConsentSession,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    address = models.GenericIPAddressField(null=True, blank=True)
    client = models.CharField(max_length=300, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["session", "occurred_at"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
