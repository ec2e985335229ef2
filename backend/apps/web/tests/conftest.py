# ruff: noqa: F401, F811 - pytest fixtures are imported by name
from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory
from apps.payments.tests.fakes import moyasar_fake
from apps.web.tests.browser import browser, browser_type_launch_args, demo, open_page, web
