from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure

DEMO_PASSWORD = "practice-mla-c01"  # noqa: S105 - demo accounts for a local install, printed on purpose

DEMO_ACCOUNTS = [
    ("candidate", "Demo candidate: takes exams and drills.", None, False),
    ("instructor", "Demo instructor: authors questions in the admin.", INSTRUCTORS, True),
    ("lead", "Demo team lead: sees cohort dashboards.", TEAM_LEADS, False),
]


class Command(BaseCommand):
    help = "Create the role groups and the demo accounts (existing accounts keep their passwords)."

    def handle(self, *args, **options):
        groups = roles_ensure()
        users = get_user_model()
        for username, description, group, staff in DEMO_ACCOUNTS:
            user, created = users.objects.get_or_create(
                username=username, defaults={"first_name": username.capitalize(), "is_staff": staff}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if group:
                user.groups.add(groups[group])
            state = "created" if created else "kept"
            self.stdout.write(f"  {username:<11} / {DEMO_PASSWORD}  {description} ({state})")
        # The demo lead runs a training organisation, so they can create cohorts and invite people.
        from apps.cohorts.models import Membership, Organisation, Role

        organisation, _ = Organisation.objects.get_or_create(slug="demo-training", defaults={"name": "Demo Training"})
        Membership.objects.get_or_create(
            organisation=organisation, user=users.objects.get(username="lead"), defaults={"role": Role.LEAD}
        )
