from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Informed consent"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from consent.roles import roles_ensure_after_migrate

        post_migrate.connect(roles_ensure_after_migrate, sender=self)
        post_migrate.connect(_history_triggers_after_migrate, sender=self)


def _history_triggers_after_migrate(using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from consent.audit.triggers import triggers_install

    triggers_install(connections[using])
