from django import forms
from django.utils import timezone

from apps.cohorts.models import Assignment
from apps.syllabus.models import Exam, Task
from apps.syllabus.selectors import exam_default, exam_versions


class CohortForm(forms.Form):
    name = forms.CharField(max_length=200, label="Cohort name")
    exam = forms.ModelChoiceField(
        queryset=Exam.objects.none(),
        to_field_name="code",
        empty_label=None,
        required=False,  # left out: the current version
        label="Exam version",
        help_text="The cohort's mocks, assignments and dashboard are on this version.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["exam"].queryset = exam_versions()
        self.fields["exam"].label_from_instance = lambda exam: f"{exam.code} ({exam.get_status_display().lower()})"
        current = exam_default()
        if current is not None:
            self.fields["exam"].initial = current.code


class JoinForm(forms.Form):
    code = forms.CharField(max_length=12, label="Join code")


class RosterForm(forms.Form):
    roster = forms.FileField(label="Roster CSV (columns: username, email, first_name, last_name)")

    def clean_roster(self):
        upload = self.cleaned_data["roster"]
        if upload.size > 1024 * 1024:
            raise forms.ValidationError("The roster is larger than 1 MB; split it into smaller files.")
        raw = upload.read()
        for encoding in ("utf-8-sig", "utf-16"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        raise forms.ValidationError("The roster is not UTF-8 or UTF-16 text; save it as CSV UTF-8.")


class AssignmentForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Assignment.Kind.choices)
    tasks = forms.ModelMultipleChoiceField(
        queryset=Task.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    size = forms.IntegerField(min_value=1, max_value=65, initial=20, required=False, label="Questions (practice sets)")
    due_at = forms.DateTimeField(
        label="Due (UTC)",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = Task.objects.filter(domain__exam=exam).order_by("code")
        # The browser's picker offers no past moment; the service refuses one whatever the browser sends. An edited
        # assignment whose due date has passed may keep it, so the picker must accept that one too.
        earliest = timezone.now()
        current = self.initial.get("due_at")
        if current is not None and current < earliest:
            earliest = current
        self.fields["due_at"].widget.attrs["min"] = timezone.localtime(earliest).strftime("%Y-%m-%dT%H:%M")
        self.fields["tasks"].label_from_instance = lambda task: f"{task.code} {task.title}"
