"""Statistics computed before the counts existed keep exact counts after the migration."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("scoring", "0005_exam_outcome")]
AFTER = [("scoring", "0006_item_statistics_counts")]


@pytest.mark.django_db(transaction=True)
def test_counts_are_recovered_from_stored_shares(exam):
    from tests.questions.factories import QuestionFactory

    question = QuestionFactory(exam=exam, task="1.1", stem="Old statistics?")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("scoring", "ItemStatistic")
    old.objects.create(
        question_id=question.pk,
        responses=237,
        facility=124 / 237,
        options=[{"text": "A", "correct": True, "share": round(124 / 237, 4), "point_biserial": 0.3}],
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    new = executor.loader.project_state(AFTER).apps.get_model("scoring", "ItemStatistic")
    row = new.objects.get(question_id=question.pk)
    assert row.correct == 124
    assert row.options[0]["chosen"] == 124
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # later tests need the whole schema
