from django.apps import AppConfig
from django.urls import register_converter


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        from apps.core.converters import IdConverter, PositionConverter

        # Registered here, before any urls.py is imported: <id:attempt_id>, <position:position>.
        register_converter(IdConverter, "id")
        register_converter(PositionConverter, "position")
