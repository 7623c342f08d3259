from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo accounts and a simulated history: installed by `make run` and the tests only.

    A deployment leaves it out (settings.CONSENT_DEMO), so that `setup_demo` and `seed_demo`,
    which print passwords known to everyone, do not exist there.
    """

    name = "demo"
    verbose_name = "Demonstration data"
