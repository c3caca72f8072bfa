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
