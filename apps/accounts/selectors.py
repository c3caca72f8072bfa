from __future__ import annotations

from apps.accounts.models import Preference
from apps.syllabus.models import Exam
from apps.syllabus.selectors import exam_default, exam_versions


def exam_chosen(*, user) -> Exam | None:
    """The exam version the person practises for: the one they chose while it is offered, else the current one."""
    chosen = Preference.objects.filter(user=user, exam__in=exam_versions()).select_related("exam").first()
    return chosen.exam if chosen is not None else exam_default()
