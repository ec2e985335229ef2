"""Retention: what nobody needs to keep is purged by one daily job, rule by rule, in short batches.

A rule belongs to the app that owns the rows (`apps/<app>/retention.py`) and is registered in that app's
`AppConfig.ready()` into `rules`, so core runs rules of apps above it without importing them. A rule has a name,
the setting that gives its period, and two functions of the moment the run started (`now`):

* `purge(now, limit)` deletes or blanks at most `limit` due rows in the caller's transaction and returns how many.
  It picks them with `SELECT ... FOR UPDATE SKIP LOCKED`: a row that live traffic holds is left for the next run,
  and the purge never waits for a request nor makes one wait (no table lock, one short transaction per batch).
* `due(now)` counts what `purge` would touch (`--dry-run`).

`retention_run()` runs each rule batch after batch until a batch comes back short or the time budget
(RETENTION_TIME_BUDGET_SECONDS) is spent; the next run goes on where this one stopped. The entry point sets the
business scope (the worker runs jobs under `platform()`; `manage.py retention_run` does the same). What each rule
keeps and for how long: docs/privacy.md, "Retention".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from apps.core.registry import Hooks

logger = logging.getLogger("mawid.retention")

_M = TypeVar("_M", bound=models.Model)


@dataclass(frozen=True)
class Rule:
    name: str
    setting: str  # the setting that gives the period (docs/privacy.md names it too)
    purge: Callable[[datetime, int], int]
    due: Callable[[datetime], int]
    description: str = ""


rules = Hooks[Rule]("core.retention.rules")


@dataclass
class RuleResult:
    rows: int = 0
    batches: int = 0
    finished: bool = True  # False: the time budget ran out with rows still due


@dataclass
class RetentionReport:
    dry_run: bool
    results: dict[str, RuleResult] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {name: result.rows for name, result in self.results.items()}


def locked_ids(queryset: models.QuerySet[_M], *, limit: int) -> list[Any]:
    """The primary keys of at most `limit` rows of `queryset`, oldest key first, locked for this transaction;
    rows another transaction holds are skipped (they are due again next run)."""
    query = queryset.order_by("pk").select_for_update(skip_locked=True, of=("self",))
    return list(query.values_list("pk", flat=True)[:limit])


def delete_batch(queryset: models.QuerySet[_M], *, limit: int) -> int:
    """Delete at most `limit` rows of `queryset` (a rule's usual `purge`)."""
    ids = locked_ids(queryset, limit=limit)
    if not ids:
        return 0
    queryset.model._base_manager.filter(pk__in=ids).delete()
    return len(ids)


def blank_batch(queryset: models.QuerySet[_M], *, limit: int, **values: Any) -> int:
    """Set `values` on at most `limit` rows of `queryset`, keeping the rows (a rule that blanks contents)."""
    ids = locked_ids(queryset, limit=limit)
    if ids:
        queryset.model._base_manager.filter(pk__in=ids).update(**values)
    return len(ids)


def deleting_rule(
    *, name: str, setting: str, due: Callable[[datetime], models.QuerySet[Any]], description: str
) -> Rule:
    """A rule that deletes, batch by batch, the rows `due(now)` selects."""
    return Rule(
        name=name,
        setting=setting,
        purge=lambda now, limit: delete_batch(due(now), limit=limit),
        due=lambda now: due(now).count(),
        description=description,
    )


def blanking_rule(
    *,
    name: str,
    setting: str,
    due: Callable[[datetime], models.QuerySet[Any]],
    values: dict[str, Any],
    description: str,
) -> Rule:
    """A rule that sets `values` (blank contents) on the rows `due(now)` selects, keeping the rows."""
    return Rule(
        name=name,
        setting=setting,
        purge=lambda now, limit: blank_batch(due(now), limit=limit, **values),
        due=lambda now: due(now).count(),
        description=description,
    )


def retention_run(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    time_budget: float | None = None,
    dry_run: bool = False,
    only: set[str] | None = None,
) -> RetentionReport:
    """Run every registered rule (or the ones named in `only`); see the module's docstring."""
    now = now or timezone.now()
    limit = max(1, batch_size or settings.RETENTION_BATCH_SIZE)
    budget = settings.RETENTION_TIME_BUDGET_SECONDS if time_budget is None else time_budget
    deadline = time.monotonic() + budget
    report = RetentionReport(dry_run=dry_run)
    for rule in rules.all():
        if only is not None and rule.name not in only:
            continue
        result = report.results[rule.name] = RuleResult()
        if dry_run:
            result.rows = rule.due(now)
            logger.info("retention_due", extra={"rule": rule.name, "rows": result.rows})
            continue
        while True:
            with transaction.atomic():
                done = rule.purge(now, limit)
            result.rows += done
            result.batches += 1
            if done < limit:
                break
            if time.monotonic() >= deadline:
                result.finished = False
                break
        logger.info(
            "retention_purged",
            extra={"rule": rule.name, "rows": result.rows, "batches": result.batches, "finished": result.finished},
        )
    return report
