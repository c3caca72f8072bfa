"""The lead's cohort dashboard: charts, headline numbers, one filter for every widget and CSV, sorting and search
of members, the member page, and the query budget at a realistic size."""

import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from apps.cohorts.models import (
    CohortMember,
    ItemMissStat,
    Membership,
    MemberStat,
    ObjectiveStat,
    Organisation,
    Role,
    WeekStat,
)
from apps.cohorts.services import assignment_create, cohort_create, cohort_stats_on_scored, cohort_stats_rebuild
from apps.exams.models import Attempt
from apps.syllabus.models import Objective
from tests.cohorts.factories import MONDAY, NEXT_MONDAY, aware, member_add, two_weeks_seed
from tests.questions.factories import QuestionFactory


@pytest.fixture
def organisation(lead):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return organisation


@pytest.fixture
def cohort(organisation, lead, exam):
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


@pytest.fixture
def two_weeks(cohort, exam):
    return two_weeks_seed(cohort=cohort, exam=exam)


def _get(client, cohort, **params):
    return client.get(reverse("cohorts:dashboard", args=[cohort.pk]), params)


def _csv(client, cohort, table, **params) -> list[list[str]]:
    response = client.get(reverse("cohorts:export", args=[cohort.pk, table]), params)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_date_filter_drives_every_widget_and_csv(client, lead, cohort, two_weeks):
    # given
    q1, q2 = two_weeks
    client.force_login(lead)

    # when: the second week only
    body = _get(client, cohort, since=NEXT_MONDAY.isoformat()).content.decode()

    # then: members, objectives, items and weeks are the second week's
    assert ">late</a>" in body
    assert ">early</a>" not in body
    assert "2.1.1" in body
    assert "1.1.1" not in body
    assert "Which metric suits an imbalanced classifier?" in body
    assert "Which service stores" not in body
    assert NEXT_MONDAY.isoformat() in body
    assert f"<td>{MONDAY.isoformat()}</td>" not in body
    assert f"since={NEXT_MONDAY.isoformat()}" in body  # the CSV links carry the filter
    members = _csv(client, cohort, "members", since=NEXT_MONDAY.isoformat())
    assert [row[0] for row in members[1:]] == ["late"]
    objectives = _csv(client, cohort, "objectives", since=NEXT_MONDAY.isoformat())
    assert [row[0] for row in objectives[1:]] == ["2.1.1"]
    items = _csv(client, cohort, "items", since=NEXT_MONDAY.isoformat())
    assert [int(row[0]) for row in items[1:]] == [q2.pk]
    weeks = _csv(client, cohort, "weeks", since=NEXT_MONDAY.isoformat())
    assert [row[0] for row in weeks[1:]] == [NEXT_MONDAY.isoformat()]

    # and without a filter, both weeks count
    all_items = _csv(client, cohort, "items")
    assert [int(row[0]) for row in all_items[1:]] == [q1.pk, q2.pk]  # 90% missed, then 80%


def test_a_mid_week_date_covers_its_whole_week_and_says_so(client, lead, cohort, two_weeks):
    client.force_login(lead)

    body = _get(client, cohort, until=(MONDAY + timedelta(days=2)).isoformat()).content.decode()

    assert "covers whole weeks" in body
    assert f'value="{(MONDAY + timedelta(days=6)).isoformat()}"' in body
    assert ">early</a>" in body
    assert ">late</a>" not in body


def test_bad_parameters_are_ignored_with_a_note_and_another_cohorts_assignment_is_a_404(
    client, lead, cohort, organisation, exam, two_weeks
):
    other = cohort_create(organisation=organisation, exam=exam, name="Other", by=lead)
    theirs = assignment_create(
        cohort=other, by=lead, kind="mock", title="Theirs", due_at=timezone.now() + timedelta(days=1)
    )
    client.force_login(lead)

    bad = _get(client, cohort, since="2026-13-45", assignment="abc", sort="password", page="x")

    assert bad.status_code == 200
    body = bad.content.decode()
    assert "From date “2026-13-45” is not a date (YYYY-MM-DD), so it was ignored." in body
    assert "Assignment “abc” is not an assignment number, so it was ignored." in body
    assert ">early</a>" in body
    assert ">late</a>" in body
    assert _get(client, cohort, assignment=str(theirs.pk)).status_code == 404
    assert _get(client, cohort, assignment="999999").status_code == 404
    assert (
        client.get(reverse("cohorts:export", args=[cohort.pk, "members"]), {"assignment": theirs.pk}).status_code == 404
    )


def test_headline_numbers_give_the_median_and_the_share_passing_with_its_interval(client, lead, cohort):
    now = timezone.now()
    for n, score in enumerate([600, 700, 750, 800]):
        member_add(cohort, f"m{n}", latest_scaled=score, attempts=1, last_active=now)
    member_add(cohort, "idle")
    client.force_login(lead)

    body = _get(client, cohort).content.decode()

    assert re.search(r'id="headline-members">5<', body)
    assert re.search(r'id="headline-active">4<', body)
    assert re.search(r'id="headline-median">725<', body)
    # 2 of 4: Wilson 95% interval 15%-85%
    assert '50% <span class="band">(2 of 4; 95% interval 15%–85%)</span>' in body


def test_the_histogram_is_an_accessible_svg_scaled_to_its_tallest_bin_with_the_pass_mark(client, lead, cohort):
    for n in range(40):
        member_add(cohort, f"idle{n}")  # members without a score must not flatten the bars
    for n, score in enumerate([610, 620, 630, 760]):
        member_add(cohort, f"m{n}", latest_scaled=score, attempts=1)
    client.force_login(lead)

    body = _get(client, cohort).content.decode()
    svg = body[body.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg"') :]
    svg = svg[: svg.index("</svg>")]

    assert 'role="img"' in svg
    assert '<title id="score-histogram-title">Members by latest mock score' in svg
    assert "4 members with a score to date. 1 at or above the pass mark of 720, 3 below." in svg
    assert "Pass mark 720" in svg
    heights = [float(h) for h in re.findall(r'class="chart-bar"[^>]* height="([\d.]+)"', svg)]
    assert len(heights) == 2
    top, bottom = 40, 340 - 76  # the plot area of the histogram's frame
    assert max(heights) == bottom - top  # the tallest bin (3 members) reaches the top of the scale
    assert min(heights) == pytest.approx((bottom - top) / 3, abs=0.02)
    assert '<th scope="row">600–649</th><td>3</td>' in body  # the table fallback


def test_members_sort_and_search_in_the_url(client, lead, cohort):
    member_add(cohort, "alice", first_name="Alice", latest_scaled=650, attempts=1)
    member_add(cohort, "bob", first_name="Robert", latest_scaled=800, attempts=3)
    member_add(cohort, "carol", latest_scaled=None, attempts=0)
    client.force_login(lead)

    by_latest = _get(client, cohort, sort="-latest").content.decode()
    table = by_latest[by_latest.index('id="members-table"') :]
    assert table.index(">bob</a>") < table.index(">alice</a>") < table.index(">carol</a>")
    assert 'aria-sort="descending"><a href="?sort=latest"' in by_latest

    found = _get(client, cohort, q="robert", sort="-latest").content.decode()
    assert ">bob</a>" in found
    assert ">alice</a>" not in found
    assert "Members (1)" in found
    assert "q=robert" in found  # sort links and the CSV keep the search
    rows = _csv(client, cohort, "members", q="robert")
    assert [row[0] for row in rows[1:]] == ["bob"]


def test_the_member_page_is_for_the_cohorts_leads_and_members_only(client, lead, cohort, candidate, exam):
    member = member_add(
        cohort, "alice", latest_scaled=700, attempts=2, tasks={"1.1": [3, 4]}, last_active=timezone.now()
    )
    outsider = get_user_model().objects.create_user("outsider")
    client.force_login(lead)

    page = client.get(reverse("cohorts:member", args=[cohort.pk, member.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="member-latest">700<' in body
    assert "1.1 " in body
    assert "75%" in body
    assert client.get(reverse("cohorts:member", args=[cohort.pk, outsider.pk])).status_code == 404
    newcomer = member_add(cohort, "newcomer")  # no scored attempt yet
    assert (
        "No scored attempts yet."
        in client.get(reverse("cohorts:member", args=[cohort.pk, newcomer.pk])).content.decode()
    )
    client.force_login(candidate)
    assert client.get(reverse("cohorts:member", args=[cohort.pk, member.pk])).status_code == 404


def test_most_missed_items_need_five_answers_and_show_a_plain_text_excerpt(client, lead, cohort, exam):
    rare = QuestionFactory(exam=exam, task="1.1", stem="Seen only **four** times?")
    common = QuestionFactory(exam=exam, task="1.2", stem="A *long* stem " + "word " * 60)
    ItemMissStat.objects.create(cohort=cohort, family=rare.family, question=rare, week=MONDAY, missed=4, seen=4)
    ItemMissStat.objects.create(cohort=cohort, family=common.family, question=common, week=MONDAY, missed=3, seen=6)
    member_add(cohort, "answerer")  # an empty cohort shows its first steps instead of the dashboard
    client.force_login(lead)

    body = _get(client, cohort).content.decode()
    missed = body[body.index('id="missed-heading"') :]

    assert "four" not in missed
    assert "A long stem word" in missed
    assert "<em>" not in missed[: missed.index("</table>")]
    excerpt = re.search(r"<td>(A long stem[^<]*)</td>", missed).group(1)
    assert len(excerpt) <= 120
    assert "50% (3 of 6)" in missed


def test_the_assignment_filter_counts_only_its_attempts(client, bank, lead, cohort, django_capture_on_commit_callbacks):
    from tests.scoring.factories import scored_mock

    # given: two members; one takes the assigned mock, the other a mock of their own
    assignment = assignment_create(
        cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=timezone.now() + timedelta(days=7)
    )
    people = [member_add(cohort, name) for name in ("assigned", "own")]
    from apps.cohorts.services import assignment_start
    from apps.exams.services import attempt_submit

    with django_capture_on_commit_callbacks(execute=True):
        attempt = assignment_start(assignment=assignment, user=people[0])
        attempt_submit(attempt=attempt)
        scored_mock(exam=bank, candidate=people[1], ability=0.9, seed=3)
    client.force_login(lead)

    # when
    body = _get(client, cohort, assignment=str(assignment.pk)).content.decode()

    # then
    assert ">assigned</a>" in body
    assert ">own</a>" not in body
    assert 'id="headline-active">1<' in body
    assert (
        sum(ItemMissStat.objects.filter(cohort=cohort, assignment_key=assignment.pk).values_list("seen", flat=True))
        == 50
    )
    items = _csv(client, cohort, "items", assignment=assignment.pk)
    assert sum(int(row[4]) for row in items[1:]) <= 50


def test_the_scoring_hook_and_the_rebuild_fill_the_same_week_and_assignment_buckets(
    bank, lead, cohort, django_capture_on_commit_callbacks
):
    from apps.cohorts.services import assignment_start
    from apps.exams.services import attempt_submit
    from tests.scoring.factories import scored_mock

    people = [member_add(cohort, name) for name in ("ann", "ben")]
    with time_machine.travel(aware(MONDAY, 10), tick=False):
        assignment = assignment_create(cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=aware(MONDAY, 20))
        with django_capture_on_commit_callbacks(execute=True):
            attempt_submit(attempt=assignment_start(assignment=assignment, user=people[0]))
    with time_machine.travel(aware(NEXT_MONDAY, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=people[1], ability=0.6, seed=5)

    def buckets() -> tuple[set, set]:
        return (
            set(
                ObjectiveStat.objects.filter(cohort=cohort).values_list(
                    "week", "assignment_key", "objective_id", "correct", "total"
                )
            ),
            set(
                ItemMissStat.objects.filter(cohort=cohort).values_list(
                    "week", "assignment_key", "family", "missed", "seen"
                )
            ),
        )

    incremental = buckets()
    cohort_stats_rebuild(cohort=cohort)

    assert buckets() == incremental
    assert {row[:2] for row in incremental[1]} == {(MONDAY, assignment.pk), (NEXT_MONDAY, 0)}
    for attempt in Attempt.objects.all():
        cohort_stats_on_scored(attempt_id=attempt.pk)  # a retried task counts nothing twice
    assert buckets() == incremental


def test_the_dashboard_of_a_thousand_members_stays_within_its_query_budget(
    client, lead, cohort, exam, django_assert_max_num_queries
):
    # given: a realistic cohort, its aggregates made in bulk
    users = get_user_model()
    people = users.objects.bulk_create([users(username=f"p{n:04d}") for n in range(1000)])
    CohortMember.objects.bulk_create([CohortMember(cohort=cohort, user=u, via="roster") for u in people])
    now = timezone.now()
    MemberStat.objects.bulk_create(
        [
            MemberStat(
                cohort=cohort,
                user=u,
                latest_scaled=300 + n % 700,
                best_scaled=400 + n % 600,
                attempts=n % 9,
                last_active=now - timedelta(days=n % 80),
                tasks={"1.1": [n % 5, 5]},
            )
            for n, u in enumerate(people)
        ]
    )
    objectives = list(Objective.objects.filter(task__domain__exam=exam))
    weeks = [MONDAY - timedelta(days=7 * k) for k in range(12)]
    ObjectiveStat.objects.bulk_create(
        [ObjectiveStat(cohort=cohort, objective=o, week=w, correct=3, total=10) for o in objectives for w in weeks]
    )
    question = QuestionFactory(exam=exam, task="1.1")
    ItemMissStat.objects.bulk_create(
        [
            ItemMissStat(cohort=cohort, family=uuid.uuid4(), question=question, week=w, missed=n % 7, seen=7)
            for n in range(100)
            for w in weeks
        ]
    )
    WeekStat.objects.bulk_create(
        [WeekStat(cohort=cohort, week=w, active=500, ready=200, mean_scaled=690) for w in weeks]
    )
    client.force_login(lead)

    # when / then
    for params in ({}, {"since": weeks[5].isoformat(), "sort": "-latest", "q": "p0"}):
        with django_assert_max_num_queries(15):
            response = _get(client, cohort, **params)
        assert response.status_code == 200
    assert "Members (1000)" in _get(client, cohort).content.decode()


def test_the_migration_splits_existing_tallies_into_weeks_and_assignments(
    bank, lead, cohort, django_capture_on_commit_callbacks
):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection

    from apps.cohorts.services import assignment_start
    from apps.exams.services import attempt_submit
    from tests.scoring.factories import scored_mock

    # given: two attempts in two weeks, one for an assignment, tallied by the scoring hook
    people = [member_add(cohort, name) for name in ("ann", "ben")]
    with time_machine.travel(aware(MONDAY, 10), tick=False):
        assignment = assignment_create(cohort=cohort, by=lead, kind="mock", title="Mock 1", due_at=aware(MONDAY, 20))
        with django_capture_on_commit_callbacks(execute=True):
            attempt_submit(attempt=assignment_start(assignment=assignment, user=people[0]))
    with time_machine.travel(aware(NEXT_MONDAY, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=bank, candidate=people[1], ability=0.6, seed=5)
    expected = set(
        ObjectiveStat.objects.filter(cohort=cohort).values_list(
            "week", "assignment_key", "objective_id", "correct", "total"
        )
    )
    # ... then collapsed into one row per objective, as they were before they had weeks
    totals: dict[int, list[int]] = {}
    for objective_id, correct, total in ObjectiveStat.objects.values_list("objective_id", "correct", "total"):
        pair = totals.setdefault(objective_id, [0, 0])
        pair[0] += correct
        pair[1] += total
    ObjectiveStat.objects.all().delete()
    ObjectiveStat.objects.bulk_create(
        [
            ObjectiveStat(cohort=cohort, objective_id=o, week=date(1970, 1, 5), correct=c, total=t)
            for o, (c, t) in totals.items()
        ]
    )

    # when
    import_module("apps.cohorts.migrations.0004_stat_buckets").tallies_rebucket(apps, connection.schema_editor())

    # then
    rebucketed = set(
        ObjectiveStat.objects.filter(cohort=cohort).values_list(
            "week", "assignment_key", "objective_id", "correct", "total"
        )
    )
    assert rebucketed == expected
    assert {row[:2] for row in rebucketed} == {(MONDAY, assignment.pk), (NEXT_MONDAY, 0)}
