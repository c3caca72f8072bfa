from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone

from apps.questions.models import QuestionReport
from apps.scoring.models import OUTCOME_EARLIEST, ExamOutcome
from apps.scoring.outcomes import outcome_problems
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
