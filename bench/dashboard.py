"""Cohort dashboard benchmark: the storm's 1,000 candidates as one cohort with 20 scored mocks each (19 earlier
ones from `history_seed` and the one the storm scores), served through the whole Django stack in-process
(server-side time only), with its SQL query count; and the same page for 250- and 500-member cohorts.

`history_seed` writes the synthetic history `manage.py seed_demo` would (Rasch responses on the real bank, a
per-task skill, progress over twelve weeks) in bulk with COPY: seed_demo builds it through the ORM, which took
136 s for 20,000 attempts, longer than everything it was there to measure. The dashboard reads only the
aggregates, which the product's own `cohort_stats_rebuild` then builds from those rows, as after an import.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from psycopg.copy import QueuedLibpqWriter

RENDERS = 30
HISTORY_WEEKS = 12


def _breakdowns(tasks: list, x: np.ndarray, items, cut: float) -> tuple[str, str]:
    """One attempt's per-domain and per-task reports as the scoring service writes them."""
    from apps.scoring.services import breakdowns

    by_domain, by_task = breakdowns(tasks, x.astype(float), items, cut)
    return json.dumps(by_domain), json.dumps(by_task)


def history_seed(*, exam, user_ids: list[int], per_member: int, seed: int = 2026) -> int:
    """``per_member`` scored mock exams for each user over the last twelve weeks, with their items and results.

    The model is seed_demo's: ability ~ N(-0.2, 0.9) growing by 0.6 logits over the twelve weeks, a per-task
    skill ~ N(0, 0.4), forms drawn to the blueprint's domain quotas, responses drawn from the Rasch model.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.exams.assembly import largest_remainder
    from apps.questions.models import Question, QuestionStatus
    from apps.scoring import irt
    from apps.scoring.services import exam_cut_theta

    questions = list(
        Question.objects.filter(task__domain__exam=exam, status=QuestionStatus.PUBLISHED)
        .select_related("task__domain")
        .order_by("pk")
    )
    tasks = sorted({(q.task.code, q.task.title) for q in questions}, key=lambda t: [int(p) for p in t[0].split(".")])
    domains = sorted({(q.task.domain.number, q.task.domain.title) for q in questions})
    task_of = np.array([tasks.index((q.task.code, q.task.title)) for q in questions])
    domain_of = np.array([domains.index((q.task.domain.number, q.task.domain.title)) for q in questions])
    b = np.array([irt.DIFFICULTY_PRIOR.get(q.difficulty, 0.0) for q in questions])
    model = irt.Items.rasch(b)
    question_pk = np.array([q.pk for q in questions])
    task_pk = {q.pk: q.task_id for q in questions}
    quota = largest_remainder(exam.scored_count, {d.number: float(d.weight) for d in exam.domains.all()})

    rng = np.random.default_rng(seed)
    ability = rng.normal(-0.2, 0.9, len(user_ids))
    skill = rng.normal(0, 0.4, (len(user_ids), len(tasks)))
    owner = np.repeat(np.arange(len(user_ids)), per_member)
    n = len(owner)
    days_ago = rng.uniform(0, 7 * HISTORY_WEEKS, n)
    grown = ability[owner] + 0.6 * (7 * HISTORY_WEEKS - days_ago) / (7 * HISTORY_WEEKS)
    forms = np.concatenate(
        [
            pool[rng.random((n, len(pool))).argsort(axis=1)[:, : quota[number]]]
            for number, pool in ((d, np.flatnonzero(domain_of == i)) for i, (d, _) in enumerate(domains))
        ],
        axis=1,
    )  # (n, scored items) indexes into questions, domain by domain as seed_demo draws them
    chance = 1 / (1 + np.exp(-(grown[:, None] + skill[owner[:, None], task_of[forms]] - b[forms])))
    x = (rng.random(forms.shape) < chance).astype(int)

    cut = exam_cut_theta(exam=exam)
    scale = irt.Scale(cut=cut, low=exam.scale_min, high=exam.scale_max, passing=exam.passing_score)
    now = timezone.now()
    started = [now - timedelta(days=float(d), minutes=exam.minutes) for d in days_ago]
    used = rng.uniform(70, 128, n)

    with transaction.atomic(), connection.cursor() as cursor:
        # Rows consistent by construction: skip the foreign-key triggers, as a restore does (pg_restore
        # --disable-triggers); checking a million deferred keys at commit took longer than writing the rows.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SELECT nextval(pg_get_serial_sequence('exams_attempt', 'id')) FROM generate_series(1, %s)", [n])
        ids = [row[0] for row in cursor.fetchall()]
        columns = (
            "id, candidate_id, exam_id, mode, state, feedback, item_count, started_at, duration_seconds,"
            " accommodation_seconds, deadline, submitted_at, submitted_by, last_position, selection, scratchpad"
        )
        with cursor.copy(f"COPY exams_attempt ({columns}) FROM STDIN") as copy:
            for i in range(n):
                copy.write_row(
                    (
                        ids[i],
                        user_ids[owner[i]],
                        exam.pk,
                        "mock",
                        "scored",
                        "end",
                        forms.shape[1],
                        started[i],
                        exam.minutes * 60,
                        0,
                        started[i] + timedelta(minutes=exam.minutes),
                        started[i] + timedelta(minutes=float(used[i])),
                        "candidate",
                        1,
                        "{}",
                        "",
                    )
                )
        columns = (
            "attempt_id, position, question_id, task_id, scored, presentation, answer, answer_seq, flagged, eliminated"
        )
        # A writer thread sends while this one formats: PostgreSQL's index upkeep is the slow half.
        writer = QueuedLibpqWriter(cursor.cursor)
        with cursor.copy(f"COPY exams_attemptitem ({columns}, complete, is_correct) FROM STDIN", writer=writer) as copy:
            fixed = 't\t{}\t{"simulated": true}\t0\tf\t[]\tt\t'
            for i in range(n):
                attempt_id = ids[i]
                copy.write(
                    "".join(
                        f"{attempt_id}\t{position}\t{pk}\t{task_pk[pk]}\t{fixed}{'t' if right else 'f'}\n"
                        for position, (pk, right) in enumerate(
                            zip(question_pk[forms[i]].tolist(), x[i].tolist(), strict=True), start=1
                        )
                    )
                )
        columns = (
            "attempt_id, raw_correct, raw_scored, theta, theta_se, cut_theta, scaled_score, passed, pass_probability,"
            " by_domain, by_task, time_used_seconds, method, computed_at"
        )
        writer = QueuedLibpqWriter(cursor.cursor)
        with cursor.copy(f"COPY scoring_attemptresult ({columns}) FROM STDIN", writer=writer) as copy:
            for i in range(n):
                on_form = model.take(forms[i])
                estimate = irt.eap(x[i], on_form)
                scaled = scale.scaled(estimate.theta)
                by_domain, by_task = _breakdowns([questions[q].task for q in forms[i]], x[i], on_form, cut)
                copy.write_row(
                    (
                        ids[i],
                        int(x[i].sum()),
                        forms.shape[1],
                        estimate.theta,
                        estimate.se,
                        cut,
                        scaled,
                        scaled >= exam.passing_score,
                        irt.pass_probability(estimate.theta, estimate.se, cut),
                        by_domain,
                        by_task,
                        int(used[i] * 60),
                        "simulated",
                        now,
                    )
                )
    return n


def cohort_create(*, exam, lead, user_ids: list[int], name: str):
    """A cohort of ``user_ids`` led by ``lead``, its aggregates built by the product's bulk rebuild."""
    from apps.cohorts.models import Cohort, CohortMember, Membership, Organisation, Role
    from apps.cohorts.services import cohort_stats_rebuild

    organisation, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench Training"})
    Membership.objects.get_or_create(organisation=organisation, user=lead, defaults={"role": Role.LEAD})
    cohort = Cohort.objects.create(organisation=organisation, exam=exam, name=name)
    cohort.leads.add(lead)
    CohortMember.objects.bulk_create([CohortMember(cohort=cohort, user_id=pk, via="roster") for pk in user_ids])
    Membership.objects.bulk_create(
        [Membership(organisation=organisation, user_id=pk, role=Role.CANDIDATE) for pk in user_ids],
        ignore_conflicts=True,
    )
    cohort_stats_rebuild(cohort=cohort)
    return cohort


def render_time(*, cohort, lead) -> dict:
    """Server-side time of the dashboard's first page, over ``RENDERS`` requests after a warm-up."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.cohorts.models import CohortMember
    from apps.exams.models import Attempt, AttemptState

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(lead)
    url = f"/cohorts/{cohort.pk}/"
    assert client.get(url).status_code == 200  # warms caches and connections
    timings = []
    for _ in range(RENDERS):
        began = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    members = CohortMember.objects.filter(cohort=cohort)
    return {
        "members": members.count(),
        "attempts": Attempt.objects.filter(
            candidate__in=members.values("user_id"), state=AttemptState.SCORED, exam=cohort.exam
        ).count(),
        "p50": statistics.median(timings),
        "p95": timings[int(0.95 * (len(timings) - 1))],
        "queries": len(queries),
    }


def week_update_time(*, cohort, repeats: int = 5) -> dict:
    """The part of the cohort update after each scoring whose work depended on the cohort's size: counting the
    mock in its week (`week_stat_count`). Timed for a member's mock of this week as if just scored (its week row
    removed, in a transaction rolled back after each run), median of ``repeats``, with how many scored mocks the
    cohort's week holds."""
    from django.db import transaction
    from django.utils import timezone

    from apps.cohorts.models import WeekMember
    from apps.cohorts.services import week_stat_count
    from apps.exams.models import Attempt, AttemptMode, AttemptState

    day = timezone.localtime(timezone.now()).date()
    start = timezone.make_aware(datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time()))
    in_week = Attempt.objects.filter(
        candidate__cohort_memberships__cohort=cohort,
        mode=AttemptMode.MOCK,
        state=AttemptState.SCORED,
        submitted_at__gte=start,
        submitted_at__lt=start + timedelta(days=7),
    )
    attempt = in_week.select_related("result").order_by("-submitted_at").first()
    timings = []
    for _ in range(repeats + 1):  # the first warms caches
        with transaction.atomic():
            WeekMember.objects.filter(cohort=cohort, user_id=attempt.candidate_id).delete()
            began = time.perf_counter()
            week_stat_count(cohort=cohort, result=attempt.result)
            timings.append((time.perf_counter() - began) * 1000)
            transaction.set_rollback(True)
    return {"week_update_ms": statistics.median(timings[1:]), "week_attempts": in_week.count()}


def sizes_measure(*, exam, lead, user_ids: list[int], full_cohort, sizes: tuple[int, ...]) -> dict[int, dict]:
    """The dashboard of the full cohort and of cohorts made of its first ``sizes`` members (the same people, the
    same history), so only the member count changes."""
    from apps.cohorts.services import cohort_stats_rebuild

    results: dict[int, dict] = defaultdict(dict)
    for size in sizes:
        started = time.perf_counter()
        if size == len(user_ids):
            cohort = full_cohort
            cohort_stats_rebuild(cohort=cohort)  # also brings in the storm's attempts the workers did not count
        else:
            cohort = cohort_create(exam=exam, lead=lead, user_ids=user_ids[:size], name=f"Bench cohort ({size})")
        results[size]["rebuild_seconds"] = time.perf_counter() - started
        results[size].update(render_time(cohort=cohort, lead=lead))
        results[size].update(week_update_time(cohort=cohort))
    return dict(results)
