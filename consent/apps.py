from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Informed consent"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from consent.roles import roles_ensure_after_migrate

        post_migrate.connect(roles_ensure_after_migrate, sender=self)
