"""Every URL of the site and the API against every role, with the status each must get.

A URL without a row here fails `test_every_url_has_a_row`, so new views cannot skip this review.
Roles: anonymous, the candidate who owns the attempt, another candidate, an instructor, a lead of another
cohort, the cohort's lead, and the admin of the lead's organisation.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from apps.cohorts.models import Membership, Organisation, Role
from apps.cohorts.services import assignment_create, cohort_create, cohort_join
from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure
from apps.exams.services import attempt_start_practice
from apps.questions.models import ItemMedia, Question, QuestionImport
from apps.scoring.models import ExamOutcome, StandardSettingStudy, StudyItem, StudyRule
from apps.syllabus.models import Task
from tests.questions.factories import QuestionFactory

ROLES = ["anonymous", "candidate", "other_candidate", "instructor", "other_lead", "lead", "org_admin"]

OWNER = {"anonymous": 302, "candidate": 200, "default": 404}  # a candidate's own pages
SIGNED_IN = {"anonymous": 302, "default": 200}
PUBLIC = {"default": 200}
LEAD_ONLY = {"anonymous": 302, "lead": 200, "org_admin": 200, "default": 404}
API_OWNER = {"anonymous": 403, "candidate": 200, "default": 404}
API_SIGNED_IN = {"anonymous": 403, "default": 200}
API_INSTRUCTOR = {"anonymous": 403, "instructor": 200, "default": 403}
API_LEAD = {"anonymous": 403, "lead": 200, "org_admin": 200, "default": 404}
ADMIN_PAGE = {"anonymous": 302, "instructor": 200, "default": 302}  # non-staff are sent to the admin login

# name: (method, url kwargs key, expectations). GETs run first, then POSTs in this order.
MATRIX: dict[str, tuple[str, str, dict]] = {
    "home": ("GET", "", PUBLIC),
    "healthz": ("GET", "", PUBLIC),
    "favicon": ("GET", "", {"default": 302}),  # to the static icon
    "login": ("GET", "", {"anonymous": 200, "default": 302}),
    "signup": ("GET", "", {"anonymous": 200, "default": 302}),
    "signup-done": ("GET", "", PUBLIC),
    "signup-closed": ("GET", "", PUBLIC),
    "activate": ("GET", "", PUBLIC),
    "account": ("GET", "", SIGNED_IN),
    "password_change": ("GET", "", SIGNED_IN),
    "password_change_done": ("GET", "", SIGNED_IN),
    "password_reset": ("GET", "", PUBLIC),
    "password_reset_done": ("GET", "", PUBLIC),
    "password_reset_confirm": ("GET", "reset", PUBLIC),  # a wrong token: the "not valid" page
    "password_reset_complete": ("GET", "", PUBLIC),
    "ping": ("GET", "", {"anonymous": 302, "default": 204}),
    "exams:home": ("GET", "", SIGNED_IN),
    "exams:practice": ("GET", "", SIGNED_IN),
    "exams:mock": ("GET", "", SIGNED_IN),
    "exams:exit": ("GET", "attempt", OWNER),
    "exams:open": ("GET", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:question": ("GET", "attempt_item", OWNER),
    "exams:review": ("GET", "attempt", OWNER),
    "exams:submit": ("GET", "attempt", OWNER),
    "scoring:results": ("GET", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    # one item's review carries its key: the matrix's attempt is in progress, so not even its owner gets it
    "scoring:item-review": ("GET", "attempt_item", {"anonymous": 302, "default": 404}),
    "scoring:progress": ("GET", "", SIGNED_IN),
    "scoring:rules-markdown": ("GET", "", SIGNED_IN),
    "cohorts:home": ("GET", "", SIGNED_IN),
    "cohorts:join-invite": ("GET", "invite", SIGNED_IN),
    "cohorts:dashboard": ("GET", "cohort", LEAD_ONLY),
    "cohorts:export": ("GET", "export", LEAD_ONLY),
    "cohorts:assignment-edit": ("GET", "assignment", LEAD_ONLY),
    "cohorts:assignment-delete": ("GET", "assignment", LEAD_ONLY),  # the confirmation page
    "cohorts:digest-off": ("GET", "digest_off", PUBLIC),  # the signed token is the proof; a wrong one: "not valid"
    "cohorts:member": ("GET", "member", LEAD_ONLY),
    # A draft item's image: staff who author see it; nobody else (the item is not delivered to anyone yet).
    "questions:item-media": ("GET", "media", {"anonymous": 302, "instructor": 200, "default": 404}),
    "api-schema": ("GET", "", PUBLIC),
    "api-docs": ("GET", "", PUBLIC),
    "api-exams": ("GET", "", API_SIGNED_IN),
    "api-exam": ("GET", "exam", API_SIGNED_IN),
    "api-questions": ("GET", "", API_INSTRUCTOR),
    "api-question": ("GET", "question", API_INSTRUCTOR),
    "api-attempts": ("GET", "", API_SIGNED_IN),
    "api-attempt": ("GET", "attempt", API_OWNER),
    "api-attempt-item": ("GET", "attempt_item", API_OWNER),
    "api-attempt-result": ("GET", "attempt", {"anonymous": 403, "candidate": 409, "default": 404}),
    "api-cohort-analytics": ("GET", "cohort", API_LEAD),
    "admin:questions_question_coverage": ("GET", "", ADMIN_PAGE),
    "admin:questions_question_preview": ("GET", "question", ADMIN_PAGE),
    # POSTs
    "signup#post": ("POST", "", {"anonymous": 200, "default": 302}),  # empty: the form again, with its errors
    "activate#post": ("POST", "", PUBLIC),
    "password_reset#post": ("POST", "", PUBLIC),
    "account#post": ("POST", "", {"default": 302}),
    "text-size": ("POST", "", {"default": 302}),  # anonymous: to login; others: no size given, back to account
    # the matrix's attempt is in progress: no one reports its items before its key is shown
    "scoring:report": ("POST", "attempt_item", {"anonymous": 302, "default": 404}),
    "exams:answer": ("POST", "attempt_item", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:flag": ("POST", "attempt_item", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:strike": ("POST", "strike", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:check": ("POST", "attempt_item", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:scratchpad": ("POST", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    "api-attempt-answer": ("POST", "attempt_item", {"anonymous": 403, "candidate": 200, "default": 404}),
    "exams:pacing": ("POST", "", SIGNED_IN | {"default": 302}),
    "scoring:rule-save": ("POST", "", {"anonymous": 302, "default": 302}),
    "api-question-status": ("POST", "question", {"anonymous": 403, "instructor": 200, "default": 403}),
    "cohorts:join-code": ("POST", "", {"anonymous": 302, "default": 302}),
    "cohorts:new": ("POST", "", {"anonymous": 302, "lead": 302, "other_lead": 302, "org_admin": 302, "default": 404}),
    "cohorts:assign": ("POST", "cohort", {"anonymous": 302, "lead": 302, "org_admin": 302, "default": 404}),
    "cohorts:roster": ("POST", "cohort", {"anonymous": 302, "lead": 302, "org_admin": 302, "default": 404}),
    "cohorts:digest": ("POST", "cohort", {"anonymous": 302, "lead": 302, "org_admin": 302, "default": 404}),
    "cohorts:assignment-start": ("POST", "assignment", {"anonymous": 302, "candidate": 302, "default": 404}),
    "scoring:review-due": ("POST", "", {"anonymous": 302, "default": 302}),
    "exams:review-start": ("POST", "", {"anonymous": 302, "default": 302}),
    "exams:mock-start": ("POST", "", {"anonymous": 302, "default": 302}),
    "exams:version": ("POST", "", {"anonymous": 302, "default": 302}),
    "exams:pause": ("POST", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    "exams:resume": ("POST", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    "api-attempt-submit": ("POST", "attempt", {"anonymous": 403, "candidate": 200, "default": 404}),
    "exams:submit#post": ("POST", "attempt", {"anonymous": 302, "candidate": 302, "default": 404}),
    "admin:questions_question_new_version": ("POST", "question", ADMIN_PAGE | {"instructor": 302}),
    "admin:questions_question_import": ("GET", "", ADMIN_PAGE),
    "admin:questions_question_import_detail": ("GET", "import", ADMIN_PAGE),
    "admin:questions_question_export": ("GET", "", ADMIN_PAGE),
    "scoring:outcome-edit": ("GET", "outcome", OWNER),
    "api-outcomes": ("GET", "", API_SIGNED_IN),
    "api-outcome": ("GET", "outcome", API_OWNER),
    "admin:scoring_examoutcome_calibration": ("GET", "", ADMIN_PAGE),
    "admin:scoring_study_sheet": ("GET", "study", ADMIN_PAGE),
    "admin:scoring_study_summary": ("GET", "study", ADMIN_PAGE),
    "admin:scoring_study_cut": ("GET", "study", ADMIN_PAGE | {"instructor": 404}),  # not adopted
    "admin:scoring_study_action": ("POST", "study_action", ADMIN_PAGE | {"instructor": 403}),  # facilitators only
    "scoring:outcome-create": ("POST", "", {"anonymous": 302, "default": 400}),  # an empty report is refused
    "scoring:outcome-delete": ("POST", "outcome", {"anonymous": 302, "candidate": 302, "default": 404}),
    "logout": ("POST", "", {"default": 302}),
}
# Django's own admin and auth views are covered by Django; these are not ours to list.
EXEMPT_PREFIXES = ("admin:",)
EXEMPT_OURS_IN_ADMIN = {
    "admin:questions_question_coverage",
    "admin:questions_question_preview",
    "admin:questions_question_new_version",
    "admin:questions_question_import",
    "admin:questions_question_import_detail",
    "admin:questions_question_export",
    "admin:scoring_examoutcome_calibration",
    "admin:scoring_study_sheet",
    "admin:scoring_study_summary",
    "admin:scoring_study_cut",
    "admin:scoring_study_action",
}


def _names(patterns, namespace: str = "") -> set[str]:
    names: set[str] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= _names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}{pattern.name}")
    return names


def test_every_url_has_a_row():
    ours = {
        name
        for name in _names(get_resolver().url_patterns)
        if not name.startswith(EXEMPT_PREFIXES) or name in EXEMPT_OURS_IN_ADMIN
    }
    listed = {name.partition("#")[0] for name in MATRIX}
    assert ours - listed == set(), "add these URLs to the authorisation matrix"


@pytest.fixture
def world(exam):
    users = get_user_model()
    groups = roles_ensure()
    people = {role: users.objects.create_user(role, password="pw-12345-x") for role in ROLES[1:]}
    people["instructor"].is_staff = True
    people["instructor"].save()
    people["instructor"].groups.add(groups[INSTRUCTORS])
    for role in ("lead", "other_lead"):
        people[role].groups.add(groups[TEAM_LEADS])
    organisation = Organisation.objects.create(name="Org", slug="org")
    Membership.objects.create(organisation=organisation, user=people["lead"], role=Role.LEAD)
    Membership.objects.create(organisation=organisation, user=people["org_admin"], role=Role.ADMIN)
    other = Organisation.objects.create(name="Other", slug="other")
    Membership.objects.create(organisation=other, user=people["other_lead"], role=Role.LEAD)
    cohort_create(organisation=other, exam=exam, name="Not yours", by=people["other_lead"])
    cohort = cohort_create(organisation=organisation, exam=exam, name="Ours", by=people["lead"])
    cohort_join(user=people["candidate"], code=cohort.join_code)
    for n in range(3):
        QuestionFactory(exam=exam, task="1.1", stem=f"Question {n}?")
    question = QuestionFactory(exam=exam, task="1.1", status="draft", stem="A draft?")
    task = Task.objects.get(code="1.1")
    attempt = attempt_start_practice(
        candidate=people["candidate"], exam=exam, task_ids=[task.pk], count=3, timed=True, feedback="end"
    )
    assignment = assignment_create(
        cohort=cohort,
        by=people["lead"],
        kind="practice",
        title="Drill",
        due_at=timezone.now() + timedelta(days=3),
        task_ids=[task.pk],
        size=2,
    )
    StudyRule.objects.create(candidate=people["candidate"], task=task, text="A rule")
    media = ItemMedia.objects.create(
        question=question,
        name="diagram.png",
        file=ContentFile(b"\x89PNG\r\n\x1a\n", name="diagram.png"),
        content_type="image/png",
        size=8,
    )
    upload = QuestionImport.objects.create(uploaded_by=people["instructor"], exam=exam, filename="bank.json")
    study = StandardSettingStudy.objects.create(exam=exam, name="Panel")
    for position, published in enumerate(Question.objects.filter(status="published"), start=1):
        StudyItem.objects.create(study=study, position=position, question=published, task=published.task)
    outcome = ExamOutcome.objects.create(
        candidate=people["candidate"], exam=exam, sat_on=date(2026, 11, 2), passed=True
    )
    kwargs = {
        "": {},
        "outcome": {"outcome_id": outcome.pk},
        "attempt": {"attempt_id": attempt.pk},
        "attempt_item": {"attempt_id": attempt.pk, "position": 1},
        "strike": {"attempt_id": attempt.pk, "position": 1, "option": 1},
        "invite": {"token": str(cohort.invite_token)},
        "cohort": {"cohort_id": cohort.pk},
        "export": {"cohort_id": cohort.pk, "table": "members"},
        "member": {"cohort_id": cohort.pk, "user_id": people["candidate"].pk},
        "exam": {"code": exam.code},
        "question": {"pk": question.pk},
        "assignment": {"assignment_id": assignment.pk},
        "import": {"pk": upload.pk},
        "study": {"pk": study.pk},
        "study_action": {"pk": study.pk, "action": "adopt"},
        "reset": {"uidb64": "MQ", "token": "not-a-token"},
        "digest_off": {"token": "not-a-token"},
        "media": {"media_id": media.pk, "name": media.name},
    }
    return people, kwargs


def _reverse(name: str, kwargs: dict) -> str:
    return reverse(name.partition("#")[0], kwargs=kwargs)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_the_expected_status_everywhere(client, world, role):
    people, kwargs = world
    if role != "anonymous":
        client.force_login(people[role])
    failures = []
    for name, (method, key, expected) in MATRIX.items():
        url = _reverse(name, kwargs[key])
        want = expected.get(role, expected["default"])
        if method == "GET":
            response = client.get(url)
        else:
            data = {"status": "published"} if name == "api-question-status" else {}
            response = client.post(url, data)
        if response.status_code != want:
            failures.append(f"{method} {url} ({name}): got {response.status_code}, expected {want}")
    assert failures == []
