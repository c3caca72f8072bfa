"""Scoring with two exam versions: a carried-over item is one item, whichever version delivered it."""

from django.contrib.auth import get_user_model

from apps.scoring.analysis import item_statistics_compute
from apps.scoring.models import ExamReliability, ItemStatistic
from tests.scoring.factories import scored_mock


def test_statistics_of_a_carried_item_pool_both_versions_and_reliability_stays_per_version(
    bank_c02, exam, candidate, django_capture_on_commit_callbacks
):
    other = get_user_model().objects.create_user("other")
    with django_capture_on_commit_callbacks(execute=True):
        c01 = scored_mock(exam=exam, candidate=candidate, ability=0.6, seed=1)
        c02 = scored_mock(exam=bank_c02, candidate=other, ability=0.6, seed=2)
    shared = set(c01.items.values_list("question_id", flat=True)) & set(c02.items.values_list("question_id", flat=True))
    assert shared

    for order in ((exam, bank_c02), (bank_c02, exam)):  # whichever version is computed last
        for version in order:
            item_statistics_compute(exam=version)
        assert set(ItemStatistic.objects.filter(question_id__in=shared).values_list("responses", flat=True)) == {2}

    assert ExamReliability.objects.get(exam=exam).attempts == 1
    assert ExamReliability.objects.get(exam=bank_c02).attempts == 1
    c01_only = c01.items.filter(question__type="ordering").values_list("question_id", flat=True)
    assert set(ItemStatistic.objects.filter(question_id__in=c01_only).values_list("responses", flat=True)) == {1}
