"""`python -m apps.invoicing.zatca.fake [--port 8103] [--otp 123345]`: run the Fatoora fake until SIGINT/SIGTERM."""

from __future__ import annotations

from .server import main

raise SystemExit(main())
