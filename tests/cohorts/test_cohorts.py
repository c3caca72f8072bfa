"""Teams: a lead's cohort, joining, assignments, rosters and the dashboard's aggregates and privacy."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from apps.cohorts.models import (
    Cohort,
    CohortMember,
    ItemMissStat,
    Membership,
    MemberStat,
    ObjectiveStat,
    Organisation,
    Role,
)
from apps.cohorts.services import (
    assignment_create,
    cohort_create,
    cohort_join,
    cohort_stats_on_scored,
    roster_import,
)
from apps.exams.models import Attempt
from apps.exams.services import attempt_start_mock, attempt_submit
from apps.questions.models import Question
from apps.syllabus.models import Task


@pytest.fixture
def organisation(lead):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return organisation


@pytest.fixture
def cohort(organisation, lead, exam):
    return cohort_create(organisation=organisation, exam=exam, name="Spring bootcamp", by=lead)


def test_lead_creates_invites_assigns_and_sees_the_result(
    client, bank, lead, candidate, organisation, django_capture_on_commit_callbacks
):
    # the lead creates a cohort and an assignment
    client.force_login(lead)
    response = client.post(reverse("cohorts:new"), {"name": "Cloud team"})
    cohort = Cohort.objects.get(name="Cloud team")
    assert response.url == reverse("cohorts:dashboard", args=[cohort.pk])
    due = (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    client.post(reverse("cohorts:assign", args=[cohort.pk]), {"title": "Mock 1", "kind": "mock", "due_at": due})

    # the candidate follows the invite link, sees the assignment and takes it
    client.force_login(candidate)
    client.post(reverse("cohorts:join-invite", args=[cohort.invite_token]))
    home = client.get(reverse("cohorts:home")).content.decode()
    assert "Assigned to you" in home
    assert "Mock 1" in home
    assignment = cohort.assignments.get()
    start = reverse("cohorts:assignment-start", args=[assignment.pk])
    assert f'href="{start}"' in home  # a mock opens its instructions first
    instructions = client.get(start).content.decode()
    assert "Begin the exam" in instructions
    assert f'action="{start}"' in instructions
    assert not Attempt.objects.filter(candidate=candidate).exists()  # the clock starts on Begin
    response = client.post(start)
    attempt = Attempt.objects.get(candidate=candidate)
    assert response.url == reverse("exams:open", args=[attempt.pk])
    with django_capture_on_commit_callbacks(execute=True):
        attempt_submit(attempt=attempt)

    # no one recomputes anything: the dashboard already shows the result
    attempt.refresh_from_db()
    client.force_login(lead)
    body = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    assert f"<td>{attempt.result.scaled_score}</td>" in body
    assert "1/1" in body  # the assignment is completed by its one member
    assert MemberStat.objects.get(cohort=cohort, user=candidate).attempts == 1
    assert ObjectiveStat.objects.filter(cohort=cohort).exists()


def test_a_practice_assignment_the_running_mock_blocks_says_why(client, bank, lead, cohort, candidate):
    cohort_join(user=candidate, code=cohort.join_code)
    task = Task.objects.get(code="1.1")
    assignment = assignment_create(
        cohort=cohort,
        by=lead,
        kind="practice",
        title="Drill",
        due_at=timezone.now() + timedelta(days=3),
        task_ids=[task.pk],
        size=5,
    )
    mock = attempt_start_mock(candidate=candidate, exam=bank, seed=1)
    in_mock = mock.items.values_list("question__family", flat=True)
    Question.objects.filter(task=task).exclude(family__in=in_mock).update(status="retired")
    client.force_login(candidate)

    response = client.post(reverse("cohorts:assignment-start", args=[assignment.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("cohorts:home")
    assert "the remaining items of these tasks are in your unfinished mock exam; finish it first." in (
        response.content.decode()
    )
    assert Attempt.objects.filter(candidate=candidate).count() == 1


def test_aggregates_count_an_attempt_once(bank, cohort, candidate, django_capture_on_commit_callbacks):
    cohort_join(user=candidate, code=cohort.join_code)
    from tests.scoring.factories import scored_mock

    with django_capture_on_commit_callbacks(execute=True):
        attempt = scored_mock(exam=bank, candidate=candidate, ability=0.5, seed=4)
    seen = sum(ItemMissStat.objects.filter(cohort=cohort).values_list("seen", flat=True))

    cohort_stats_on_scored(attempt_id=attempt.pk)

    assert seen == 50
    assert sum(ItemMissStat.objects.filter(cohort=cohort).values_list("seen", flat=True)) == 50


def test_dashboard_is_only_for_its_leads(client, cohort, candidate, instructor, exam):
    other_lead = get_user_model().objects.create_user("other-lead")
    other_org = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(organisation=other_org, user=other_lead, role=Role.LEAD)
    cohort_create(organisation=other_org, exam=exam, name="Theirs", by=other_lead)
    urls = [
        reverse("cohorts:dashboard", args=[cohort.pk]),
        reverse("cohorts:export", args=[cohort.pk, "members"]),
    ]
    for user in (candidate, instructor, other_lead):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)


def test_org_admins_see_every_cohort_of_their_organisation(client, cohort, organisation):
    admin = get_user_model().objects.create_user("org-admin")
    Membership.objects.create(organisation=organisation, user=admin, role=Role.ADMIN)
    client.force_login(admin)
    assert client.get(reverse("cohorts:dashboard", args=[cohort.pk])).status_code == 200


def test_wrong_join_codes_are_refused(client, candidate, cohort):
    client.force_login(candidate)
    response = client.post(reverse("cohorts:join-code"), {"code": "NOPE1234"}, follow=True)
    assert "not valid" in response.content.decode()
    assert client.get(reverse("cohorts:join-invite", args=["not-a-uuid"])).status_code == 404
    assert not CohortMember.objects.exists()


def test_roster_errors_are_reported_per_line_and_nothing_is_imported(cohort):
    text = "username,email\nada,ada@example.com\n,nobody@example.com\nbob,not-an-email\nada,again@example.com\n"

    result = roster_import(cohort=cohort, text=text, filename="team.csv")

    assert result.errors == [
        "team.csv: line 3: username '' is empty or has characters not allowed.",
        "team.csv: line 4: email 'not-an-email' is not an email address.",
        "team.csv: line 5: ada appears twice.",
    ]
    assert not CohortMember.objects.exists()
    assert not get_user_model().objects.filter(username="ada").exists()


def test_roster_upload_adds_people(client, lead, cohort, candidate):
    client.force_login(lead)
    upload = SimpleUploadedFile(
        "team.csv", "\ufeffusername,email\ncand,c@example.com\nnew-person,n@example.com\n".encode()
    )

    response = client.post(reverse("cohorts:roster", args=[cohort.pk]), {"roster": upload}, follow=True)

    assert "2 added (1 new accounts)" in response.content.decode()
    assert set(cohort.members.values_list("user__username", flat=True)) == {"cand", "new-person"}


def test_csv_export_neutralises_formulas(client, lead, cohort):
    user = get_user_model().objects.create_user("=HYPERLINK(1)")
    CohortMember.objects.create(cohort=cohort, user=user, via="lead")
    client.force_login(lead)

    body = client.get(reverse("cohorts:export", args=[cohort.pk, "members"])).content.decode()

    assert "'=HYPERLINK(1)" in body
    assert client.get(reverse("cohorts:export", args=[cohort.pk, "secrets"])).status_code == 404


def test_dashboard_query_budget(client, lead, cohort, bank, django_assert_max_num_queries):
    users = get_user_model()
    for n in range(30):
        CohortMember.objects.create(cohort=cohort, user=users.objects.create_user(f"m{n}"), via="lead")
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        client.get(reverse("cohorts:dashboard", args=[cohort.pk]))


def test_seed_demo_builds_a_cohort_the_dashboard_can_show(client, exam, lead, django_assert_max_num_queries):
    from django.core.management import call_command

    from tests.questions.factories import QuestionFactory

    for task in ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "4.1", "4.2", "4.3"):
        for n in range(5):
            QuestionFactory(exam=exam, task=task, stem=f"{task} question {n}?")
    call_command("seed_demo", "--members", "20", "--attempts", "60", "--lead", "lead")

    cohort = Cohort.objects.get(name="Demo cohort (20)")
    assert cohort.members.count() == 20
    assert MemberStat.objects.filter(cohort=cohort, latest_scaled__isnull=False).count() > 10
    assert ObjectiveStat.objects.filter(cohort=cohort).exists()
    client.force_login(lead)
    with django_assert_max_num_queries(15):
        body = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    assert "Readiness per week" in body
    assert "Weakest objectives" in body


def test_date_range_filters_members_and_weeks(client, lead, cohort, candidate):
    CohortMember.objects.create(cohort=cohort, user=candidate, via="lead")
    MemberStat.objects.create(cohort=cohort, user=candidate, latest_scaled=700, attempts=1, last_active=timezone.now())
    client.force_login(lead)
    url = reverse("cohorts:dashboard", args=[cohort.pk])

    recent = client.get(url, {"since": timezone.now().date().isoformat()}).content.decode()
    old = client.get(url, {"until": "2020-01-01"}).content.decode()
    bad = client.get(url, {"since": "not-a-date"})

    assert ">cand</th>" in recent
    assert ">cand</th>" not in old
    assert bad.status_code == 200


def test_members_see_only_an_anonymous_percentile(client, cohort, candidate):
    other = get_user_model().objects.create_user("peer")
    for user, score in ((candidate, 750), (other, 600)):
        CohortMember.objects.create(cohort=cohort, user=user, via="lead")
        MemberStat.objects.create(cohort=cohort, user=user, latest_scaled=score, attempts=1)
    client.force_login(candidate)

    body = client.get(reverse("scoring:progress")).content.decode()

    assert "ahead of 50% of members" in body
    assert "peer" not in body
    assert "600" not in body


def test_members_come_a_page_at_a_time_and_the_export_has_everyone(client, lead, cohort):
    users = get_user_model()
    for n in range(60):
        CohortMember.objects.create(cohort=cohort, user=users.objects.create_user(f"p{n:02d}"), via="lead")
    client.force_login(lead)
    url = reverse("cohorts:dashboard", args=[cohort.pk])

    first = client.get(url).content.decode()
    second = client.get(url, {"page": "2"}).content.decode()
    export = client.get(reverse("cohorts:export", args=[cohort.pk, "members"])).content.decode()

    assert "Members (60)" in first
    assert ">p00</th>" in first
    assert ">p59</th>" not in first
    assert ">p59</th>" in second
    assert export.count("\n") == 61


def test_seed_demo_stores_answers_that_item_statistics_can_read(exam, lead):
    from django.core.management import call_command

    from apps.exams.models import AttemptItem
    from apps.scoring.analysis import item_statistics_compute
    from apps.scoring.marking import answer_is_correct
    from apps.scoring.models import ItemStatistic
    from tests.exams.factories import bank_build

    # given
    bank_build(exam, per_task=5, pretest_per_task=0, case_study=False)
    call_command("seed_demo", "--members", "30", "--attempts", "40", "--lead", "lead")

    # when
    item_statistics_compute(exam=exam)

    # then: each stored answer marks as the seed scored it, and option counts add up to the responses
    for item in AttemptItem.objects.select_related("question")[:300]:
        assert answer_is_correct(item.question, item.answer) is item.is_correct
    rows = ItemStatistic.objects.filter(question__type="single")
    assert rows
    for row in rows:
        key = next(option for option in row.options if option["correct"])
        assert key["chosen"] == row.correct
        assert sum(option["chosen"] for option in row.options) + row.unanswered == row.responses
