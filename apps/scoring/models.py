from django.conf import settings
from django.db import models

from apps.exams.models import Attempt


class Classification(models.TextChoices):
    MEETS = "meets", "Meets competencies"
    NEEDS = "needs", "Needs improvement"
    UNSURE = "unsure", "Not enough evidence yet"


class AttemptResult(models.Model):
    """The score report of one attempt; exactly one per attempt, enforced by the one-to-one key."""

    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="result")
    raw_correct = models.PositiveSmallIntegerField()
    raw_scored = models.PositiveSmallIntegerField(help_text="Scored items on the form (pretest items excluded).")
    theta = models.FloatField()
    theta_se = models.FloatField()
    cut_theta = models.FloatField()
    scaled_score = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    pass_probability = models.FloatField()
    by_domain = models.JSONField(default=list)
    by_task = models.JSONField(default=list)
    time_used_seconds = models.PositiveIntegerField()
    method = models.CharField(max_length=40, default="rasch-eap")
    computed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.attempt}: {self.scaled_score}"


class ItemParameter(models.Model):
    """A question version's calibrated Rasch difficulty, on the platform's one scale."""

    question = models.OneToOneField("questions.Question", on_delete=models.CASCADE, related_name="irt")
    b = models.FloatField(help_text="Difficulty in logits.")
    b_se = models.FloatField()
    a = models.FloatField(default=1.0, help_text="Slope; 1 under the Rasch model.")
    responses = models.PositiveIntegerField()
    calibrated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.question}: b={self.b:.2f}±{self.b_se:.2f}"


class ItemStatistic(models.Model):
    """Classical item analysis (as Moodle's quiz statistics report computes it) on first attempts: each candidate's
    first scored mock exam that delivered the item, pooled over the exam versions that deliver it. Every figure
    here shares one denominator, ``responses``."""

    question = models.OneToOneField("questions.Question", on_delete=models.CASCADE, related_name="statistics")
    responses = models.PositiveIntegerField(help_text="First attempts that delivered the item: the denominator.")
    correct = models.PositiveIntegerField(default=0, help_text="Of those, how many got it right.")
    unanswered = models.PositiveIntegerField(default=0, help_text="Of those, how many left it unanswered.")
    versions = models.JSONField(default=list, help_text="Codes of the exam versions whose first attempts count.")
    facility = models.FloatField(help_text="Share of first attempts that got it right.")
    discrimination = models.FloatField(null=True, help_text="100 × corrected item-rest correlation.")
    efficiency = models.FloatField(null=True, help_text="Discriminative efficiency, percent.")
    options = models.JSONField(
        default=list, help_text="Per option: text, key or not, how many chose it, share, point-biserial, problem."
    )
    flag_miskey = models.BooleanField(
        default=False, help_text="Negative discrimination from at least 50 first attempts: possible miskey."
    )
    flag_too_easy = models.BooleanField(default=False)
    flag_too_hard = models.BooleanField(default=False)
    flag_weak_distractor = models.BooleanField(
        default=False,
        help_text="A wrong option that does not work: almost nobody chooses it (95% upper bound under 5%), or "
        "stronger candidates choose it more (positive point-biserial beyond chance).",
    )
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.question}: F={self.facility:.2f}"

    @property
    def flags(self) -> list[str]:
        names = {
            "flag_miskey": "possible miskey",
            "flag_too_easy": "too easy",
            "flag_too_hard": "too hard",
            "flag_weak_distractor": "distractor not working",
        }
        return [label for field, label in names.items() if getattr(self, field)]


class ExamReliability(models.Model):
    """Reliability of an exam's mocks: KR-20 (Cronbach's α for 0/1 items) and the standard error of measurement."""

    exam = models.OneToOneField("syllabus.Exam", on_delete=models.CASCADE, related_name="test_statistics")
    attempts = models.PositiveIntegerField()
    mean = models.FloatField()
    sd = models.FloatField()
    alpha = models.FloatField(null=True)
    sem = models.FloatField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.exam}: α={self.alpha}"


class ReviewCard(models.Model):
    """Spaced-repetition state (FSRS) of one item family for one candidate: missed items come back when due."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    family = models.UUIDField()
    card = models.JSONField(help_text="fsrs.Card.to_dict()")
    due = models.DateTimeField()
    lapses = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["candidate", "family"], name="review_card_unique")]
        indexes = [models.Index(fields=["candidate", "due"], name="review_card_due")]

    def __str__(self) -> str:
        return f"{self.candidate} {self.family} due {self.due:%Y-%m-%d}"


class StudyRule(models.Model):
    """A one-line rule the candidate wrote from their misses in a task (the syllabus's study tip)."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_rules")
    task = models.ForeignKey("syllabus.Task", on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=240)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task__code", "created_at"]

    def __str__(self) -> str:
        return self.text
