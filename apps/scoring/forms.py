from django import forms

from apps.questions.models import QuestionReport


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
