from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure
from apps.syllabus.models import Exam
from apps.syllabus.services import syllabus_load

SYLLABUS = Path(settings.BASE_DIR) / "fixtures" / "syllabus" / "mla-c01.yaml"


@pytest.fixture
def exam(db) -> Exam:
    """The real MLA-C01 blueprint, loaded from the shipped fixture."""
    return syllabus_load(path=SYLLABUS).exam


@pytest.fixture
def candidate(db):
    return get_user_model().objects.create_user("cand", password="pw-cand-123")


@pytest.fixture
def instructor(db):
    user = get_user_model().objects.create_user("inst", password="pw-inst-123", is_staff=True)
    user.groups.add(roles_ensure()[INSTRUCTORS])
    return user


@pytest.fixture
def lead(db):
    user = get_user_model().objects.create_user("lead", password="pw-lead-123")
    user.groups.add(roles_ensure()[TEAM_LEADS])
    return user


@pytest.fixture
def instructor_client(client, instructor):
    client.force_login(instructor)
    return client
