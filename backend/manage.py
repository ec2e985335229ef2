#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.development")
    from django.core.management import execute_from_command_line
    from django_scopes import scopes_disabled

    # Management commands are the operator's tools, platform code across businesses (apps/core/scoping.py); a
    # request (`runserver`) and a job (`procrastinate worker`) still get their own scope from the middleware.
    with scopes_disabled():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
