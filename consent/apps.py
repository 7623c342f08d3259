from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Informed consent")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_migrate, pre_save

        from consent.roles import roles_ensure_after_migrate
        from consent.services.accounts import receivers_connect
        from consent.text import normalize_before_save

        # The audit of log-ins, log-outs, failures and lock-outs (before axes' own receivers).
        receivers_connect()
        post_migrate.connect(roles_ensure_after_migrate, sender=self)
        post_migrate.connect(_history_triggers_after_migrate, sender=self)
        for model in [*self.get_models(), get_user_model()]:
            pre_save.connect(normalize_before_save, sender=model, dispatch_uid=f"nfc-{model}")


def _history_triggers_after_migrate(using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from consent.audit.triggers import triggers_install

    triggers_install(connections[using])
