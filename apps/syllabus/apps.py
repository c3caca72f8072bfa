from django.apps import AppConfig


class SyllabusConfig(AppConfig):
    name = "apps.syllabus"
    label = "syllabus"
    verbose_name = "Syllabus"
