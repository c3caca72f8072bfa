from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "apps.cohorts"
    label = "cohorts"
    verbose_name = "Organisations and cohorts"

    def ready(self) -> None:
        from apps.cohorts import receivers  # noqa: F401 - connects the "attempt scored" hook
