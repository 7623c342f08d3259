"""Data of the consent flow: procedure versions (imported content packs), consent sessions,
patient links, what the patient did, and the audit event log.

State changes are made by `consent.services`; the models only hold data and invariants.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcedureVersion(models.Model):
    """One imported content pack: immutable, identified by the SHA-256 of its canonical content."""

    slug = models.SlugField(max_length=100)
    language = models.CharField(max_length=35)
    version = models.CharField(max_length=100)
    title = models.TextField()
    summary = models.TextField()
    reviewed_by = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, unique=True)
    # The canonical parsed pack, exactly what was hashed: the version can be re-verified forever.
    content = models.JSONField()
    source_name = models.CharField(max_length=300)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["slug", "language", "version"], name="unique_procedure_version"
            )
        ]
        ordering = ["slug", "language", "-imported_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.language}, {self.version})"


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
    sections_done = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_all_sessions", "Can view every physician's consent sessions")]
        indexes = [models.Index(fields=["physician", "status"])]

    def __str__(self) -> str:
        return f"Consent session {self.public_id}"

    @property
    def language(self) -> str:
        return self.procedure_version.language

    @property
    def answers_locked(self) -> bool:
        return self.status != self.Status.REVIEWING


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

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Patient link {self.pk}"


class SectionView(models.Model):
    """Time a patient spent on one section, summed over every visit."""

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


class Attempt(models.Model):
    """One answer to one teach-back question. Attempts are never changed, only added."""

    session = models.ForeignKey(ConsentSession, on_delete=models.PROTECT, related_name="attempts")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="attempts")
    # 1 is the first try; round n + 1 follows the n-th re-teach.
    round = models.PositiveSmallIntegerField()
    answer = models.JSONField()
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


class PatientQuestion(models.Model):
    """A question the patient wrote for the physician."""

    session = models.ForeignKey(
        ConsentSession, on_delete=models.PROTECT, related_name="patient_questions"
    )
    text = models.TextField()
    asked_from = models.CharField(max_length=200, blank=True)
    # Identifies the form the question was written in, so that sending it twice stores it once.
    form_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "form_id"], name="unique_question_form")
        ]

    def __str__(self) -> str:
        return f"Patient question {self.pk}"


class AuditEvent(models.Model):
    """One thing that happened. Written only by `consent.audit.audit_record`."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Patient")
        PHYSICIAN = "physician", _("Physician")
        AUDITOR = "auditor", _("Auditor")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", _("System")

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
        ordering = ["pk"]
        indexes = [models.Index(fields=["session", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"
