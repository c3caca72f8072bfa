"""Generate a realistic synthetic cohort: members of varied ability taking mocks over twelve weeks, improving as
they go. Responses are simulated with the scoring model (3PL) on the real bank, so dashboards and benchmarks see the
patterns real data would have (weak tasks, a spread around the pass mark, progress over time). Answers are stored in
the shape the exams app saves, so item statistics can read which option each member chose."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from apps.cohorts.models import Cohort, CohortMember, Membership, Organisation, Role
from apps.cohorts.services import cohort_stats_rebuild
from apps.core.db import tables_analyze
from apps.exams.assembly import largest_remainder
from apps.exams.models import Attempt, AttemptItem, AttemptMode, AttemptState, SubmittedBy
from apps.questions.models import Question, QuestionStatus
from apps.questions.selectors import questions_placed, questions_with_parts
from apps.scoring.models import AttemptResult
from apps.scoring.services import exam_cut_theta, item_model, result_build
from apps.scoring.simulation import answer_simulate
from apps.syllabus.models import Exam, Task
from apps.syllabus.selectors import exam_by_code, exam_default


class Command(BaseCommand):
    help = (
        "Create a synthetic cohort on one exam version (--exam, default the current one): --members people taking "
        "--attempts scored mock exams in all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=1000)
        parser.add_argument("--attempts", type=int, default=20000)
        parser.add_argument("--cohort", default="Demo cohort")
        parser.add_argument("--lead", default="lead")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--exam", default="", help="exam version code, e.g. MLA-C01 (default: the current one)")

    def handle(self, *args, members: int, attempts: int, cohort: str, lead: str, seed: int, exam: str, **options):
        if not 1 <= members <= 100_000 or not 0 <= attempts <= 1_000_000:
            raise CommandError("--members must be 1-100000 and --attempts 0-1000000.")
        version = exam_by_code(exam) if exam else exam_default()
        if version is None:
            raise CommandError(
                f"Exam version {exam} is not loaded."
                if exam
                else "Load the syllabus and the bank first (make run does)."
            )
        lead_user = get_user_model().objects.filter(username=lead).first()
        if lead_user is None:
            raise CommandError(f"No user {lead!r}; run setup_demo first or pass --lead.")
        questions = _published(version)
        if len(questions) < version.scored_count:
            raise CommandError(f"The {version.code} bank is too small for mock exams; run carry_over or load_bank.")
        rng = np.random.default_rng(seed)
        with transaction.atomic():
            group = self._cohort(version, cohort, lead_user, members, seed)
            count = self._attempts(version, group, questions, attempts, rng)
            cohort_stats_rebuild(cohort=group)
        tables_analyze("auth", "exams", "scoring", "cohorts")
        self.stdout.write(f"{group.name}: {members} members, {count} scored mock exams.")

    def _cohort(self, exam: Exam, name: str, lead_user, members: int, seed: int) -> Cohort:
        organisation, _ = Organisation.objects.get_or_create(slug="demo-training", defaults={"name": "Demo Training"})
        Membership.objects.get_or_create(organisation=organisation, user=lead_user, defaults={"role": Role.LEAD})
        group = Cohort.objects.create(organisation=organisation, exam=exam, name=f"{name} ({members})")
        group.leads.add(lead_user)
        users = get_user_model()
        unusable = make_password(None)  # synthetic people cannot log in
        prefix = f"demo{seed}-{group.pk}-"
        users.objects.bulk_create(
            [users(username=f"{prefix}{n:05d}", password=unusable, first_name=f"Member {n}") for n in range(members)],
            batch_size=2000,
        )
        people = list(users.objects.filter(username__startswith=prefix).values_list("pk", flat=True))
        CohortMember.objects.bulk_create([CohortMember(cohort=group, user_id=pk, via="roster") for pk in people])
        Membership.objects.bulk_create(
            [Membership(organisation=organisation, user_id=pk, role=Role.CANDIDATE) for pk in people],
            ignore_conflicts=True,
        )
        return group

    def _attempts(self, exam: Exam, group: Cohort, questions: list[Question], total: int, rng) -> int:
        people = list(CohortMember.objects.filter(cohort=group).values_list("user_id", flat=True))
        ability = dict(zip(people, rng.normal(-0.2, 0.9, len(people)), strict=True))
        task_skill = {pk: rng.normal(0, 0.4, 12) for pk in people}
        by_domain = defaultdict(list)
        for index, question in enumerate(questions):
            by_domain[question.task.domain.number].append(index)
        quota = largest_remainder(exam.scored_count, {d.number: float(d.weight) for d in exam.domains.all()})
        model = item_model(exam=exam).items(questions)
        task_index = {code: i for i, code in enumerate(sorted({q.task.code for q in questions}))}
        cut = exam_cut_theta(exam=exam)
        # Each item's distractors pull unequally (about 45%, 30% and 25% of wrong answers, in shuffled order).
        pull = {q.pk: rng.permutation(rng.dirichlet(np.linspace(18, 9, _distractors(q)))) for q in questions}
        owners = rng.choice(people, size=total)
        now = timezone.now()
        created = 0
        for start in range(0, total, 2000):
            batch = owners[start : start + 2000]
            attempt_rows, forms, outcomes = [], [], []
            for owner in batch:
                days_ago = float(rng.uniform(0, 84))
                grown = ability[owner] + 0.6 * (84 - days_ago) / 84  # practice helps
                form = np.concatenate([rng.choice(by_domain[d], quota[d], replace=False) for d in sorted(quota)])
                skills = np.array([task_skill[owner][task_index[questions[i].task.code]] for i in form])
                # The scoring model (3PL), with a per-task skill offset.
                chance = model.c[form] + (1 - model.c[form]) / (
                    1 + np.exp(-model.a[form] * (grown + skills - model.b[form]))
                )
                x = (rng.random(len(form)) < chance).astype(int)
                started = now - timedelta(days=days_ago, minutes=130)
                attempt_rows.append(
                    Attempt(
                        candidate_id=owner,
                        exam=exam,
                        mode=AttemptMode.MOCK,
                        state=AttemptState.SCORED,
                        item_count=len(form),
                        started_at=started,
                        duration_seconds=exam.minutes * 60,
                        deadline=started + timedelta(minutes=exam.minutes),
                        submitted_at=started + timedelta(minutes=float(rng.uniform(70, 128))),
                        submitted_by=SubmittedBy.CANDIDATE,
                    )
                )
                forms.append(form)
                outcomes.append(x)
            Attempt.objects.bulk_create(attempt_rows)
            items, results = [], []
            for attempt, form, x in zip(attempt_rows, forms, outcomes, strict=True):
                items.extend(
                    AttemptItem(
                        attempt=attempt,
                        position=p,
                        question_id=questions[i].pk,
                        task_id=questions[i].task_id,
                        scored=True,
                        presentation={},
                        is_correct=bool(right),
                        answer=answer_simulate(questions[i], right=bool(right), rng=rng, weights=pull[questions[i].pk]),
                    )
                    for p, (i, right) in enumerate(zip(form, x, strict=True), start=1)
                )
                results.append(
                    result_build(
                        attempt=attempt,
                        exam=exam,
                        responses=x,
                        items=model.take(form),
                        tasks=[questions[i].task for i in form],
                        cut=cut,
                        method="simulated",
                    )
                )
            AttemptItem.objects.bulk_create(items, batch_size=10000)
            AttemptResult.objects.bulk_create(results)
            created += len(attempt_rows)
            self.stdout.write(f"  {created} of {total} attempts")
        return created


def _published(exam: Exam) -> list[Question]:
    """The version's published items with what the simulation reads, each under its task in that version."""
    tasks = Task.objects.filter(domain__exam=exam).select_related("domain").in_bulk()
    placed = questions_placed(exam=exam, statuses=[QuestionStatus.PUBLISHED])
    full = questions_with_parts(
        Question.objects.filter(pk__in=[question.pk for question in placed]), objectives=False
    ).in_bulk()
    questions = []
    for question in placed:
        loaded = full[question.pk]
        loaded.task = tasks[question.task_id]  # a view for the simulation; never saved
        questions.append(loaded)
    return questions


def _distractors(question: Question) -> int:
    return max(1, sum(not choice.is_correct for choice in question.choices.all()))
