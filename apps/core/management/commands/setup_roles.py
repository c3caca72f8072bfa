from django.core.management.base import BaseCommand

from apps.core.roles import roles_ensure


class Command(BaseCommand):
    help = "Create or refresh the role groups (Instructors, Team leads) and their permissions."

    def handle(self, *args, **options):
        for name in roles_ensure():
            self.stdout.write(f"role group ready: {name}")
