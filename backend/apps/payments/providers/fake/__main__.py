"""`python -m apps.payments.providers.fake [--port 8102] ...`: run the Moyasar fake until SIGINT or SIGTERM."""

from __future__ import annotations

from .control import main

raise SystemExit(main())
