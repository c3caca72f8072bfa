"""Cohorts per exam version: a cohort is on one version; its dashboard, tallies and exports count only that one."""

import pytest
from django.urls import reverse

from apps.cohorts.models import Cohort, Membership, MemberStat, ObjectiveStat, Organisation, Role
from apps.cohorts.services import cohort_create, cohort_join, cohort_stats_rebuild
from apps.syllabus.models import Objective
from tests.scoring.factories import scored_mock


@pytest.fixture
def organisation(lead):
    organisation = Organisation.objects.create(name="Acme Training", slug="acme")
    Membership.objects.create(organisation=organisation, user=lead, role=Role.LEAD)
    return organisation


def test_a_lead_creates_a_cohort_on_the_version_they_choose(client, lead, organisation, exam_c02):
    client.force_login(lead)

    page = client.get(reverse("cohorts:home")).content.decode()
    assert '<option value="MLA-C02" selected>MLA-C02 (current)</option>' in page
    assert '<option value="MLA-C01">MLA-C01 (retiring)</option>' in page

    client.post(reverse("cohorts:new"), {"name": "C01 stragglers", "exam": "MLA-C01"})
    client.post(reverse("cohorts:new"), {"name": "Default"})
    response = client.post(reverse("cohorts:new"), {"name": "Tampered", "exam": "MLA-C09"}, follow=True)

    assert Cohort.objects.get(name="C01 stragglers").exam.code == "MLA-C01"
    assert Cohort.objects.get(name="Default").exam == exam_c02
    assert not Cohort.objects.filter(name="Tampered").exists()
    assert "Choose an exam version offered." in response.content.decode()


def test_the_dashboard_counts_only_the_cohorts_version(
    client, lead, organisation, bank_c02, exam, candidate, django_capture_on_commit_callbacks
):
    # given: a C02 cohort whose member has taken one C01 mock and one C02 mock
    cohort = cohort_create(organisation=organisation, exam=bank_c02, name="Autumn", by=lead)
    cohort_join(user=candidate, code=cohort.join_code)
    with django_capture_on_commit_callbacks(execute=True):
        scored_mock(exam=exam, candidate=candidate, ability=0.9, seed=1)
        c02 = scored_mock(exam=bank_c02, candidate=candidate, ability=0.5, seed=2)

    # then: the live tallies count the C02 mock only, under C02 skills (the carried items' skills there)
    stat = MemberStat.objects.get(cohort=cohort, user=candidate)
    assert (stat.attempts, stat.latest_scaled) == (1, c02.result.scaled_score)
    tallied = ObjectiveStat.objects.filter(cohort=cohort)
    assert sum(tallied.values_list("total", flat=True)) == 50
    assert set(
        Objective.objects.filter(pk__in=tallied.values("objective_id")).values_list("task__domain__exam", flat=True)
    ) == {bank_c02.pk}

    # and a rebuild from scratch agrees with the live tallies
    live = sorted(tallied.values_list("objective_id", "correct", "total"))
    cohort_stats_rebuild(cohort=cohort)
    assert sorted(ObjectiveStat.objects.filter(cohort=cohort).values_list("objective_id", "correct", "total")) == live

    client.force_login(lead)
    body = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    assert '<strong id="cohort-exam">MLA-C02</strong>' in body
    assert f"<td>{c02.result.scaled_score}</td>" in body
    api = client.get(f"/api/v1/cohorts/{cohort.pk}/analytics/").json()
    assert api["exam"] == "MLA-C02"
    assert [m["attempts"] for m in api["members"]] == [1]
    csv = client.get(reverse("cohorts:export", args=[cohort.pk, "objectives"])).content.decode()
    assert "1.1.5" in csv or "1.3.7" in csv  # C02 skill codes


def test_seed_demo_seeds_either_version(bank_c02, exam, lead):
    from django.core.management import CommandError, call_command

    from apps.exams.models import AttemptItem

    call_command("seed_demo", "--members", "10", "--attempts", "20", "--lead", "lead", "--exam", "MLA-C02")

    cohort = Cohort.objects.get(name="Demo cohort (10)")
    assert cohort.exam == bank_c02
    items = AttemptItem.objects.filter(attempt__exam=bank_c02)
    assert items.count() == 20 * 50
    assert set(items.values_list("task__domain__exam", flat=True)) == {bank_c02.pk}
    assert set(items.values_list("question__type", flat=True)) <= {"single", "multiple"}
    skills = ObjectiveStat.objects.filter(cohort=cohort).values_list("objective__task__domain__exam", flat=True)
    assert set(skills) == {bank_c02.pk}
    with pytest.raises(CommandError, match="Exam version MLA-C09 is not loaded"):
        call_command("seed_demo", "--members", "10", "--attempts", "20", "--lead", "lead", "--exam", "MLA-C09")
