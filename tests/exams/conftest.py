import pytest

from tests.exams.factories import bank_build


@pytest.fixture
def bank(exam):
    bank_build(exam)
    return exam
