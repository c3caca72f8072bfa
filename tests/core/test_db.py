from django.db import connection

from apps.core.db import tables_analyze
from apps.questions.models import Question


def test_analyze_gives_the_planner_the_row_counts_of_a_bulk_load(bank):
    def planner_rows() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Question._meta.db_table])
            return cursor.fetchone()[0]

    tables_analyze("questions")

    assert planner_rows() == Question.objects.count() > 0
