from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The top of the stack: demo data (`manage.py seed_demo`) built through every app's services. No models."""

    name = "apps.demo"
    label = "demo"
