from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from apps.syllabus.models import Domain, Exam, Objective, Task

EXAM_FIELDS = {
    "title": "title",
    "description": "description",
    "minutes": "minutes",
    "questions": "question_count",
    "scored": "scored_count",
    "unscored": "unscored_count",
    "scale_min": "scale_min",
    "scale_max": "scale_max",
    "passing_score": "passing_score",
    "case_studies_per_form": "case_studies_per_form",
}
TEXT_KEYS = {"title", "description"}


class SyllabusFileError(ValueError):
    pass


@dataclass(frozen=True)
class SyllabusLoadResult:
    exam: Exam
    domains: int
    tasks: int
    objectives: int


@transaction.atomic
def syllabus_load(*, path: Path) -> SyllabusLoadResult:
    """Create or update an exam blueprint from a syllabus YAML file; running it twice changes nothing.

    Objectives are matched by (task, order), so their ids, and every item tagged with them, survive a reload.
    """
    try:
        data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        exam_data = data["exam"]
        for key in sorted(EXAM_FIELDS.keys() - TEXT_KEYS):
            value = exam_data.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
                raise SyllabusFileError(
                    f"{path.name}: exam.{key} must be a whole number from 0 to 32767, not {value!r}."
                )
        exam, _ = Exam.objects.update_or_create(
            code=exam_data["code"],
            defaults={model: exam_data[key] for key, model in EXAM_FIELDS.items() if key in exam_data},
        )
        counts = [0, 0, 0]
        for domain_data in data["domains"]:
            domain, _ = Domain.objects.update_or_create(
                exam=exam,
                number=domain_data["number"],
                defaults={"title": domain_data["title"], "weight": domain_data["weight"]},
            )
            counts[0] += 1
            for task_data in domain_data["tasks"]:
                task, _ = Task.objects.update_or_create(
                    domain=domain, code=str(task_data["code"]), defaults={"title": task_data["title"]}
                )
                counts[1] += 1
                for order, statement in enumerate(task_data["objectives"], start=1):
                    Objective.objects.update_or_create(task=task, order=order, defaults={"statement": statement})
                    counts[2] += 1
    except (AttributeError, KeyError, TypeError, yaml.YAMLError) as exc:
        raise SyllabusFileError(f"{path.name}: not a valid syllabus file ({exc!r}).") from exc
    return SyllabusLoadResult(exam, *counts)
