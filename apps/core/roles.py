"""Roles as Django groups, with exactly the permissions each needs."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

INSTRUCTORS = "Instructors"
TEAM_LEADS = "Team leads"

# Instructors author and review items; they read the syllabus but do not change it.
INSTRUCTOR_PERMISSIONS = [
    ("questions", "question", ("add", "change", "view", "delete")),
    ("questions", "choice", ("add", "change", "view", "delete")),
    ("questions", "orderingstep", ("add", "change", "view", "delete")),
    ("questions", "matchpair", ("add", "change", "view", "delete")),
    ("questions", "casestudy", ("add", "change", "view", "delete")),
    ("questions", "questionreport", ("change", "view")),  # candidates file reports; instructors close them
    ("questions", "categorytask", ("add", "change", "view", "delete")),  # where imported categories belong
    ("syllabus", "exam", ("view",)),
    ("syllabus", "domain", ("view",)),
    ("syllabus", "task", ("view",)),
    ("syllabus", "objective", ("view",)),
    ("scoring", "examoutcome", ("view",)),  # candidates' reported results, for the calibration page
    ("scoring", "standardsettingstudy", ("view",)),  # they sit on Angoff panels; facilitating needs "change"
]
INSTRUCTOR_EXTRA = [("questions", "publish_question"), ("scoring", "rate_standardsettingstudy")]


@transaction.atomic
def roles_ensure() -> dict[str, Group]:
    """Create or refresh the role groups; permissions are set to exactly the listed ones."""
    instructors, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    codenames = [
        (app, f"{action}_{model}") for app, model, actions in INSTRUCTOR_PERMISSIONS for action in actions
    ] + INSTRUCTOR_EXTRA
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename) for app, codename in codenames
    ]
    instructors.permissions.set(permissions)
    leads, _ = Group.objects.get_or_create(name=TEAM_LEADS)
    return {INSTRUCTORS: instructors, TEAM_LEADS: leads}
