import pytest

from apps.exams.services import attempt_start_mock


@pytest.fixture
def mock(bank, candidate):
    """A full mock in progress, from a fixed seed."""
    return attempt_start_mock(candidate=candidate, exam=bank, seed=3)


@pytest.fixture
def candidate_client(client, candidate):
    client.force_login(candidate)
    return client
