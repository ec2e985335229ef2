"""Formats Mawid sets for this language on top of Django's own (FORMAT_MODULE_PATH)."""

FIRST_DAY_OF_WEEK = 0  # Sunday: the Saudi week (Friday and Saturday are the weekend)
