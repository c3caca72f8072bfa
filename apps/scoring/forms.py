from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.utils import timezone

from apps.questions.models import QuestionReport
from apps.scoring.models import OUTCOME_EARLIEST, RATING_MAX, RATING_MIN, ExamOutcome
from apps.scoring.outcomes import outcome_problems
from apps.scoring.standards import SheetRow
from apps.syllabus.models import Exam


class QuestionReportForm(forms.Form):
    reason = forms.ChoiceField(
        choices=QuestionReport.Reason.choices, widget=forms.RadioSelect, label="What is wrong with it?"
    )
    comment = forms.CharField(
        required=False,
        max_length=QuestionReport.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Details (which option, what changed, a link)",
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == QuestionReport.Reason.OTHER and not data.get("comment", "").strip():
            self.add_error("comment", "Say what is wrong, so that an instructor can fix it.")
        return data


class ExamOutcomeForm(forms.Form):
    """A real exam result as the candidate reports it; the rules are those of ``outcomes.outcome_problems``."""

    exam = forms.ModelChoiceField(
        queryset=Exam.objects.filter(is_active=True).order_by("-code"),
        to_field_name="code",
        empty_label=None,
        label="Exam version",
        error_messages={
            "required": "Choose the exam version you sat.",
            "invalid_choice": "Choose one of the listed exam versions.",
        },
    )
    sat_on = forms.DateField(
        label="Date you sat the exam",
        widget=forms.DateInput(attrs={"type": "date", "min": OUTCOME_EARLIEST.isoformat()}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={
            "required": "Give the date you sat the exam.",
            "invalid": "Give the date you sat the exam as a date, e.g. 2026-10-14.",
        },
    )
    result = forms.ChoiceField(
        choices=[("pass", "Pass"), ("fail", "Fail")],
        widget=forms.RadioSelect,
        label="Result",
        error_messages={"required": "Choose the result: pass or fail.", "invalid_choice": "Choose pass or fail."},
    )
    scaled_score = forms.IntegerField(
        required=False,
        label="Scaled score (optional)",
        help_text="From your score report, 100–1000; the pass mark is 720.",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "The scaled score is a whole number from 100 to 1000."},
    )

    def __init__(self, *args, today: datetime.date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["sat_on"].widget.attrs["max"] = self.today.isoformat()
        self.fields["exam"].label_from_instance = lambda exam: exam.code  # the code is what a score report shows

    @classmethod
    def for_outcome(cls, outcome: ExamOutcome) -> ExamOutcomeForm:
        return cls(
            initial={
                "exam": outcome.exam,
                "sat_on": outcome.sat_on,
                "result": "pass" if outcome.passed else "fail",
                "scaled_score": outcome.scaled_score,
            }
        )

    def clean(self):
        data = super().clean()
        if not self.errors.keys() & {"exam", "sat_on", "result", "scaled_score"} and "exam" in data:
            problems = outcome_problems(
                exam=data["exam"],
                sat_on=data["sat_on"],
                passed=data["result"] == "pass",
                scaled_score=data.get("scaled_score"),
                today=self.today,
            )
            for name, message in problems.items():
                self.add_error(name, message)
        return data

    def add_problems(self, problems: dict[str, str]) -> None:
        for name, message in problems.items():
            self.add_error(name if name in self.fields else None, message)


RATING_FIELD = re.compile(r"^rating-(\d+)$")


class StudyCreateForm(forms.Form):
    exam = forms.ModelChoiceField(queryset=Exam.objects.filter(is_active=True), label="Exam version")
    name = forms.CharField(max_length=200, label="Study name", help_text="For example “MLA-C02 panel, spring”.")


class RatingSheetForm(forms.Form):
    """One number per base-form item (``rating-<question id>``); blank means not rated yet. Field errors name the
    item, and a posted item that is not on the form is reported rather than ignored."""

    round = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, rows: list[SheetRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.positions: dict[str, int] = {}
        for row in rows:
            name = f"rating-{row.question.pk}"
            self.positions[name] = row.item.position
            self.fields[name] = forms.FloatField(
                required=False,
                label=f"Item {row.item.position}: probability that a minimally competent candidate answers correctly",
                initial=row.value if row.value is not None else row.round_one,
                error_messages={"invalid": f"Item {row.item.position}: enter a number such as 0.65."},
                widget=forms.NumberInput(attrs={"min": RATING_MIN, "max": RATING_MAX, "step": "0.01"}),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, position in self.positions.items():
            value = cleaned.get(name)
            if value is not None and not RATING_MIN <= value <= RATING_MAX:
                self.add_error(name, f"Item {position}: enter a probability from {RATING_MIN} to {RATING_MAX}.")
        strangers = [
            match.group(1) for key in self.data if (match := RATING_FIELD.match(key)) and key not in self.fields
        ]
        if strangers:
            raise forms.ValidationError(
                f"Item id {', '.join(strangers)} is not on this study's base form; reload the sheet and try again."
            )
        return cleaned

    def values(self) -> dict[int, float | None]:
        return {int(name.split("-")[1]): self.cleaned_data.get(name) for name in self.positions}

    def field_for(self, question_id: int) -> forms.BoundField:
        return self[f"rating-{question_id}"]
