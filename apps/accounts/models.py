"""What a person chose about how the site looks to them, kept with their account (so it follows them to any
device)."""

from django.conf import settings
from django.db import models


class TextSize(models.TextChoices):
    NORMAL = "normal", "Normal"
    LARGE = "large", "Large"
    LARGER = "larger", "Larger"


class Preference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    text_size = models.CharField(max_length=10, choices=TextSize.choices, default=TextSize.NORMAL)
    exam = models.ForeignKey(
        "syllabus.Exam",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The exam version this person practises for; empty means the current one.",
    )

    def __str__(self) -> str:
        return f"{self.user}: text {self.text_size}"
