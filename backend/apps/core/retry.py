"""Retry policy for jobs that call providers: exponential backoff read from settings at run time."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from procrastinate import jobs
from procrastinate.retry import BaseRetryStrategy, RetryDecision

logger = logging.getLogger("mawid.jobs")


class Backoff(BaseRetryStrategy):
    """Retry `retry_exceptions` up to `max_attempts` runs in all, waiting base * 2**attempt seconds (capped).

    The base comes from `MAWID_JOB_RETRY_BASE_SECONDS` when the job fails, so tests can make it tiny. An
    exception may carry `retry_after` (seconds, e.g. from a provider's 429) which is honoured when longer.
    """

    def __init__(
        self,
        *,
        max_attempts: int | str,
        retry_exceptions: Iterable[type[BaseException]] = (Exception,),
        cap_seconds: float = 3600.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.retry_exceptions = tuple(retry_exceptions)
        self.cap_seconds = cap_seconds

    def _max(self) -> int:
        if isinstance(self.max_attempts, str):
            return int(getattr(settings, self.max_attempts))
        return self.max_attempts

    def get_retry_decision(self, *, exception: BaseException, job: jobs.Job) -> RetryDecision | None:
        if not isinstance(exception, self.retry_exceptions) or getattr(exception, "retryable", True) is False:
            logger.warning(
                "job_failed_permanently",
                extra={"task": job.task_name, "job_id": job.id, "error": type(exception).__name__},
            )
            return None
        if job.attempts + 1 >= self._max():
            logger.warning(
                "job_gave_up",
                extra={"task": job.task_name, "job_id": job.id, "attempts": job.attempts + 1},
            )
            return None
        wait = min(self.cap_seconds, settings.MAWID_JOB_RETRY_BASE_SECONDS * (2**job.attempts))
        retry_after = getattr(exception, "retry_after", None)
        if retry_after:
            wait = max(wait, min(float(retry_after), self.cap_seconds))
        logger.info(
            "job_retry_scheduled",
            extra={"task": job.task_name, "job_id": job.id, "attempt": job.attempts + 1, "wait_s": wait},
        )
        return RetryDecision(retry_in={"seconds": wait})

    def is_last_attempt(self, job_attempts: int) -> bool:
        return job_attempts + 1 >= self._max()
