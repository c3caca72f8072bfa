from django import forms

from apps.exams.models import Feedback
from apps.syllabus.models import Exam, Task


class TaskChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Task) -> str:
        return f"{obj.code} {obj.title}"


class PracticeForm(forms.Form):
    tasks = TaskChoiceField(
        queryset=Task.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one task to practise."},
    )
    count = forms.IntegerField(min_value=1, max_value=65, initial=10, label="Number of questions")
    timed = forms.BooleanField(required=False, initial=True, label="Timed (2 minutes per question, like the exam)")
    feedback = forms.ChoiceField(
        choices=Feedback.choices, initial=Feedback.IMMEDIATE, widget=forms.RadioSelect, label="Show answers"
    )

    def __init__(self, *args, exam: Exam, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].queryset = Task.objects.filter(domain__exam=exam).select_related("domain")
