"""Loading exam versions from syllabus files, and the maps that say how one version continues another.

A syllabus file (``fixtures/syllabus/<code>.yaml``) holds one version: its format and status under ``exam:``,
then ``domains:`` with ``tasks:`` and each task's ``skills:`` (or ``objectives:``, as C01 names them). A map file
(``from:``, ``to:``, ``objectives:``) says, for every skill of the earlier version, which skill of the later one
continues it, or ``removed``. Loading either twice changes nothing; a bad file writes nothing and the error names
the file and the key.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from apps.syllabus.models import Domain, Exam, ExamStatus, ItemType, Objective, Task

NUMBER_FIELDS = {
    "minutes": "minutes",
    "questions": "question_count",
    "scored": "scored_count",
    "unscored": "unscored_count",
    "scale_min": "scale_min",
    "scale_max": "scale_max",
    "passing_score": "passing_score",
    "case_studies_per_form": "case_studies_per_form",
}
TEXT_FIELDS = {"title": "title", "description": "description", "status_note": "status_note"}
BETA_FIELDS = {"code": "beta_code", "questions": "beta_question_count", "minutes": "beta_minutes"}


class SyllabusFileError(ValueError):
    pass


@dataclass(frozen=True)
class SyllabusLoadResult:
    exam: Exam
    domains: int
    tasks: int
    objectives: int


@dataclass(frozen=True)
class SyllabusMapResult:
    source: Exam
    target: Exam
    continued: int
    removed: int


def _read(path: Path) -> dict[str, Any]:
    try:
        # libyaml's parser where PyYAML was built with it (the pure-Python one is several times slower).
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise SyllabusFileError(f"{path.name}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise SyllabusFileError(f"{path.name}: expected a mapping with `exam:` or `from:` at the top.")
    return data


def _number(path: Path, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 32767:
        raise SyllabusFileError(f"{path.name}: {key} must be a whole number from 0 to 32767, not {value!r}.")
    return value


def _date(path: Path, key: str, value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    raise SyllabusFileError(f"{path.name}: {key} must be a date like 2026-09-29, not {value!r}.")


def _exam_defaults(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """The Exam fields a file's ``exam:`` block sets, checked; keys it leaves out keep their defaults."""
    defaults: dict[str, Any] = {model: data[key] for key, model in TEXT_FIELDS.items() if key in data}
    for key, model in NUMBER_FIELDS.items():
        if key in data:
            defaults[model] = _number(path, f"exam.{key}", data[key])
    if "item_types" in data:
        types = data["item_types"]
        if not isinstance(types, list) or not types or set(types) - set(ItemType.values):
            raise SyllabusFileError(
                f"{path.name}: exam.item_types must list some of {', '.join(ItemType.values)}, not {types!r}."
            )
        defaults["item_types"] = types
    if "status" in data:
        if data["status"] not in ExamStatus.values:
            raise SyllabusFileError(
                f"{path.name}: exam.status must be one of {', '.join(ExamStatus.values)}, not {data['status']!r}."
            )
        defaults["status"] = data["status"]
    if "languages" in data:
        if not isinstance(data["languages"], list) or not all(isinstance(code, str) for code in data["languages"]):
            raise SyllabusFileError(f"{path.name}: exam.languages must be a list of language codes.")
        defaults["languages"] = data["languages"]
    if "available_from" in data:
        defaults["available_from"] = _date(path, "exam.available_from", data["available_from"])
    beta = data.get("beta")
    if beta is not None:
        if not isinstance(beta, dict):
            raise SyllabusFileError(f"{path.name}: exam.beta must be a mapping (code, questions, minutes).")
        defaults["beta_code"] = str(beta.get("code", ""))
        defaults["beta_question_count"] = _number(path, "exam.beta.questions", beta.get("questions"))
        defaults["beta_minutes"] = _number(path, "exam.beta.minutes", beta.get("minutes"))
        defaults["beta_available_from"] = _date(path, "exam.beta.available_from", beta.get("available_from"))
    if "replaces" in data:
        replaced = Exam.objects.filter(code=data["replaces"]).first()
        if replaced is None:
            raise SyllabusFileError(
                f"{path.name}: exam.replaces names {data['replaces']!r}, which is not loaded; load its file first."
            )
        defaults["replaces"] = replaced
    return defaults


@transaction.atomic
def syllabus_load(*, path: Path) -> SyllabusLoadResult:
    """Create or update an exam version from a syllabus file; running it twice changes nothing.

    Skills are matched by (task, order), so their ids, and every item tagged with them, survive a reload.
    """
    data = _read(path)
    try:
        exam_data = data["exam"]
        exam, _ = Exam.objects.update_or_create(code=exam_data["code"], defaults=_exam_defaults(path, exam_data))
        counts = [0, 0, 0]
        for domain_data in data["domains"]:
            domain, _ = Domain.objects.update_or_create(
                exam=exam,
                number=domain_data["number"],
                defaults={"title": domain_data["title"], "weight": domain_data["weight"]},
            )
            counts[0] += 1
            for task_data in domain_data["tasks"]:
                code = str(task_data["code"])
                continues = None
                if "continues" in task_data:
                    continues = Task.objects.filter(
                        domain__exam=exam.replaces, code=str(task_data["continues"])
                    ).first()
                    if continues is None:
                        raise SyllabusFileError(
                            f"{path.name}: task {code} continues {task_data['continues']!r}, which is not a task "
                            f"of the version it replaces ({exam.replaces.code if exam.replaces else 'none named'})."
                        )
                task, _ = Task.objects.update_or_create(
                    domain=domain, code=code, defaults={"title": task_data["title"], "continues": continues}
                )
                counts[1] += 1
                statements = task_data["skills"] if "skills" in task_data else task_data["objectives"]
                # Matched by order in one read per task; new skills written in one statement.
                existing = {objective.order: objective for objective in task.objectives.all()}
                added = []
                for order, statement in enumerate(statements, start=1):
                    if order not in existing:
                        added.append(Objective(task=task, order=order, statement=statement))
                    elif existing[order].statement != statement:
                        existing[order].statement = statement
                        existing[order].save(update_fields=["statement"])
                    counts[2] += 1
                Objective.objects.bulk_create(added)
    except (AttributeError, KeyError, TypeError) as exc:
        raise SyllabusFileError(f"{path.name}: not a valid syllabus file ({exc!r}).") from exc
    return SyllabusLoadResult(exam, *counts)


REMOVED = "removed"


@transaction.atomic
def syllabus_map_load(*, path: Path) -> SyllabusMapResult:
    """Record, for every skill of the ``from`` version, the ``to`` version's skill that continues it (or that the
    ``to`` version removed it). Every skill of ``from`` must be listed, and every target must exist."""
    data = _read(path)
    try:
        source = Exam.objects.get(code=data["from"])
        target = Exam.objects.get(code=data["to"])
    except KeyError as exc:
        raise SyllabusFileError(f"{path.name}: a map file names `from:` and `to:` ({exc!r} is missing).") from exc
    except Exam.DoesNotExist:
        raise SyllabusFileError(
            f"{path.name}: `from: {data.get('from')}` and `to: {data.get('to')}` must both be loaded first."
        ) from None
    entries = data.get("objectives")
    if not isinstance(entries, dict):
        raise SyllabusFileError(f"{path.name}: `objectives:` must map each skill code to a skill code or removed.")
    sources = {o.code: o for o in Objective.objects.filter(task__domain__exam=source).select_related("task")}
    targets = {o.code: o for o in Objective.objects.filter(task__domain__exam=target).select_related("task")}
    missing = sorted(set(sources) - {str(code) for code in entries}, key=_code_key)
    if missing:
        raise SyllabusFileError(f"{path.name}: objectives: these {source.code} skills are not mapped: {missing}.")
    continued = removed = 0
    for key, value in entries.items():
        code, to = str(key), str(value)
        objective = sources.get(code)
        if objective is None:
            raise SyllabusFileError(f"{path.name}: objectives.{code}: {source.code} has no skill {code}.")
        if to == REMOVED:
            objective.successor, objective.removed_in = None, target
            removed += 1
        elif to in targets:
            objective.successor, objective.removed_in = targets[to], None
            continued += 1
        else:
            raise SyllabusFileError(
                f"{path.name}: objectives.{code}: {target.code} has no skill {to!r} (use a skill code or removed)."
            )
    Objective.objects.bulk_update(sources.values(), ["successor", "removed_in"])
    return SyllabusMapResult(source, target, continued, removed)


def _code_key(code: str) -> list[int]:
    return [int(part) if part.isdigit() else 0 for part in code.split(".")]


def syllabus_files_order(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Syllabus files with each version after the one it replaces, then the map files."""
    syllabi: dict[str, tuple[Path, str | None]] = {}
    maps = []
    for path in paths:
        data = _read(path)
        if "from" in data:
            maps.append(path)
        else:
            exam = data.get("exam") or {}
            syllabi[str(exam.get("code", path.stem))] = (path, exam.get("replaces"))
    ordered: list[Path] = []
    placed: set[str] = set()
    while len(placed) < len(syllabi):
        ready = [
            code
            for code, (_, parent) in syllabi.items()
            if code not in placed and (parent not in syllabi or parent in placed)
        ]
        if not ready:  # a cycle of `replaces`: load in name order and let syllabus_load report it
            ready = [code for code in syllabi if code not in placed]
        for code in sorted(ready):
            placed.add(code)
            ordered.append(syllabi[code][0])
    return ordered, maps
