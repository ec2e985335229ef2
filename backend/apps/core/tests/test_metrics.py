"""Observability: /metrics, request ids that follow a request into its jobs, phones masked in logs, body limits."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import path
from phonenumber_field.phonenumber import PhoneNumber
from procrastinate.contrib.django import DjangoApp, app
from prometheus_client import REGISTRY

from apps.accounts.tests.fakes import authentica_fake, authentica_fake_factory  # noqa: F401
from apps.core import metrics
from apps.core.jobcontext import REQUEST_ID_KEY, install
from apps.core.logging import JsonFormatter, MaskPhonesFilter, RequestIdFilter, job_var, request_id_var
from apps.core.testing import job_rows, run_jobs

BACKEND = Path(__file__).resolve().parents[3]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def stored_args(job_id: int) -> dict:
    """The job's arguments exactly as stored (job_rows may tidy them)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT args::text FROM procrastinate_jobs WHERE id = %s", [job_id])
        return json.loads(cursor.fetchone()[0])


class JsonLines(logging.Handler):
    """The production console handler (same filters and formatter), writing to a buffer."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = io.StringIO()
        self.addFilter(RequestIdFilter())
        self.addFilter(MaskPhonesFilter())
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.stream.write(self.format(record) + "\n")

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def json_logs(caplog):
    caplog.set_level(logging.INFO)
    handler = JsonLines()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


# --- /metrics -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_requests_are_counted_and_timed_by_route_pattern_not_raw_path(api_client):
    route = "/api/v1/services/<int:service_id>"
    before = sample("mawid_http_requests_total", method="GET", route=route, status="4xx")
    before_timed = sample("mawid_http_request_duration_seconds_count", method="GET", route=route)
    api_client.get("/api/v1/services/987654")
    api_client.get("/api/v1/services/987655")
    assert sample("mawid_http_requests_total", method="GET", route=route, status="4xx") == before + 2
    assert sample("mawid_http_request_duration_seconds_count", method="GET", route=route) == before_timed + 2
    unmatched = sample("mawid_http_requests_total", method="GET", route="<unmatched>", status="4xx")
    api_client.get("/api/v1/no/such/thing/12345")
    assert sample("mawid_http_requests_total", method="GET", route="<unmatched>", status="4xx") == unmatched + 1


@pytest.mark.django_db
def test_unknown_methods_share_one_label(api_client):
    before = sample("mawid_http_requests_total", method="other", route="/healthz", status="4xx")
    api_client.generic("BREW", "/healthz")
    assert sample("mawid_http_requests_total", method="other", route="/healthz", status="4xx") == before + 1


@pytest.mark.django_db
def test_metrics_are_served_to_loopback_in_prometheus_text_format(api_client):
    api_client.get("/healthz")
    response = api_client.get("/metrics")  # the test client comes from 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'mawid_http_requests_total{method="GET",route="/healthz",status="2xx"}' in text
    assert "mawid_http_request_duration_seconds_bucket" in text
    assert 'mawid_jobs{queue="otp",status="todo"} 0.0' in text
    assert "mawid_jobs_scrape_ok 1.0" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [{"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}],
    ids=["remote", "relayed-by-a-local-proxy"],
)
def test_metrics_refuse_anyone_but_loopback_without_a_token(api_client, extra):
    response = api_client.get("/metrics", **extra)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.django_db
def test_with_a_token_set_metrics_need_it_from_everywhere(api_client, settings):
    settings.MAWID_METRICS_TOKEN = "s3cret-metrics-token"
    assert api_client.get("/metrics").status_code == 401  # loopback is not enough any more
    wrong = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", REMOTE_ADDR="203.0.113.9")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    ok = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token", REMOTE_ADDR="203.0.113.9")
    assert ok.status_code == 200


@pytest.mark.django_db
def test_metrics_answer_get_only(api_client):
    response = api_client.post("/metrics")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_job_queue_depth_is_read_by_queue_and_status_in_one_query(django_assert_num_queries):
    from apps.accounts.jobs import otp_deliver

    first = otp_deliver.defer(challenge_id=1)
    otp_deliver.defer(challenge_id=2)
    otp_deliver.configure(schedule_in={"hours": 1}).defer(challenge_id=3)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [first])
    with django_assert_num_queries(1):
        families = {family.name: family for family in metrics.JobQueueCollector().collect()}
    values = {tuple(s.labels.values()): s.value for s in families["mawid_jobs"].samples}
    assert values[("otp", "todo")] == 2
    assert values[("otp", "failed")] == 1
    assert values[("otp", "doing")] == 0
    assert values[("maintenance", "todo")] == 0  # every known queue is reported, even empty
    due = {s.labels["queue"]: s.value for s in families["mawid_jobs_due"].samples}
    assert due["otp"] == 1  # the scheduled one is not due yet
    assert families["mawid_jobs_scrape_ok"].samples[0].value == 1


def test_provider_errors_are_counted_by_provider_and_kind():
    before = sample("mawid_provider_errors_total", provider="moyasar", kind="timeout")
    metrics.provider_error("moyasar", "timeout")
    metrics.provider_error("moyasar", "timeout")
    assert sample("mawid_provider_errors_total", provider="moyasar", kind="timeout") == before + 2


_CHILD = textwrap.dedent(
    """
    import sys
    import django
    django.setup()
    from apps.core import metrics
    if sys.argv[1] == "count":
        metrics.provider_error("authentica", "unavailable")
        metrics.observe_request(method="GET", route="/healthz", status=200, seconds=0.01)
    else:
        sys.stdout.write(metrics.render_process_metrics().decode())
    """
)


def test_multiprocess_mode_adds_up_the_counters_of_every_process(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    def child(arg: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHILD, arg], cwd=BACKEND, env=env, capture_output=True, text=True, timeout=120,
            check=True,
        )
        return done.stdout

    child("count")
    child("count")
    text = child("render")
    assert 'mawid_provider_errors_total{kind="unavailable",provider="authentica"} 2.0' in text
    assert 'mawid_http_requests_total{method="GET",route="/healthz",status="2xx"} 2.0' in text


# --- request ids follow a request into its jobs ------------------------------------------------------------------


@pytest.fixture
def otp_env(settings, authentica_fake):  # noqa: F811
    settings.AUTHENTICA_BASE_URL = authentica_fake.base_url
    settings.AUTHENTICA_API_KEY = authentica_fake.api_key
    settings.AUTHENTICA_READ_TIMEOUT = 1.0
    settings.AUTHENTICA_CONNECT_TIMEOUT = 1.0
    return authentica_fake


@pytest.mark.django_db(transaction=True)
def test_a_job_deferred_by_a_request_carries_its_id_and_the_worker_logs_with_it(api_client, otp_env, json_logs):
    response = api_client.post(
        "/api/v1/auth/otp/request", {"phone": "0501234567"}, format="json", HTTP_X_REQUEST_ID="req-7f3a"
    )
    assert response.status_code == 202
    [job] = job_rows("apps.accounts.jobs.otp_deliver")
    assert stored_args(job["id"])[REQUEST_ID_KEY] == "req-7f3a"

    run_jobs(queues=["otp"])

    assert [row["status"] for row in job_rows("apps.accounts.jobs.otp_deliver")] == ["succeeded"]
    assert otp_env.last_code("+966501234567")  # the task ran with its usual arguments
    delivered = [line for line in json_logs.lines() if line["event"] == "otp_delivered"]
    assert delivered, json_logs.lines()
    assert delivered[0]["request_id"] == "req-7f3a"
    assert delivered[0]["job_id"] == job["id"]
    assert delivered[0]["task"] == "apps.accounts.jobs.otp_deliver"
    assert "+966501234567" not in json_logs.stream.getvalue()


@pytest.fixture
def probe_app():
    """A throwaway procrastinate app wired like the real one (install()), with tasks of fixed signatures."""
    probe = DjangoApp(connector=app.connector)
    install(probe)
    seen: list[dict] = []

    @probe.task(queue="probe", name="probe_sync")
    def probe_sync(*, n: int) -> None:
        seen.append({"task": "sync", "n": n, "request_id": request_id_var.get(), "job": job_var.get()})
        if n == 1:
            probe_async.defer(n=2)  # a job deferring a job: the chain keeps the request id

    @probe.task(queue="probe", name="probe_async")
    async def probe_async(*, n: int) -> None:
        seen.append({"task": "async", "n": n, "request_id": request_id_var.get(), "job": job_var.get()})

    def run() -> None:
        worker_app = probe.with_connector(probe.connector.get_worker_connector())
        for _ in range(3):
            worker_app.run_worker(
                queues=["probe"], wait=False, install_signal_handlers=False, listen_notify=False,
                delete_jobs="never",
            )

    probe.seen, probe.run, probe.sync, probe.async_ = seen, run, probe_sync, probe_async
    return probe


@pytest.mark.django_db(transaction=True)
def test_the_request_id_reaches_sync_and_async_tasks_and_jobs_they_defer_but_not_their_arguments(probe_app):
    token = request_id_var.set("req-chain")
    try:
        probe_app.sync.defer(n=1)
    finally:
        request_id_var.reset(token)
    probe_app.sync.defer(n=3)  # deferred outside any request: no id

    probe_app.run()

    by_n = {entry["n"]: entry for entry in probe_app.seen}
    assert by_n[1]["request_id"] == "req-chain"
    assert by_n[2]["request_id"] == "req-chain"
    assert by_n[2]["task"] == "async"
    assert by_n[3]["request_id"] is None
    assert by_n[1]["job"][1] == "probe_sync"
    rows = {row["args"]["n"]: row for row in job_rows()}
    assert {n: row["status"] for n, row in rows.items()} == {1: "succeeded", 2: "succeeded", 3: "succeeded"}
    assert stored_args(rows[2]["id"]) == {"n": 2, REQUEST_ID_KEY: "req-chain"}
    assert stored_args(rows[3]["id"]) == {"n": 3}
    assert request_id_var.get() is None  # nothing leaks out of the worker
    assert job_var.get() is None


@pytest.mark.django_db(transaction=True)
def test_jobs_run_are_counted_by_task_and_outcome(probe_app):
    before = sample("mawid_jobs_run_total", task="probe_sync", outcome="succeeded")
    probe_app.sync.defer(n=5)
    probe_app.run()
    assert sample("mawid_jobs_run_total", task="probe_sync", outcome="succeeded") == before + 1


# --- phones never reach the logs --------------------------------------------------------------------------------


def test_phone_numbers_are_masked_in_messages_extra_fields_and_exceptions(json_logs):
    log = logging.getLogger("mawid.test")
    log.warning("sending to %s", "+966501234567", extra={
        "phone": PhoneNumber.from_string("+966507654321"),
        "job": {"task_kwargs": {"to": "0551112233", "ids": [966, 12]}},
        "url": "/_fake/messages?to=%2B966509998877",
    })
    try:
        raise ValueError("bad number +966 50 444 5566")
    except ValueError:
        log.exception("failed")
    text = json_logs.stream.getvalue()
    for phone in ("501234567", "507654321", "551112233", "509998877", "504445566", "50 444 5566"):
        assert phone not in text
    first, second = json_logs.lines()
    assert first["event"] == "sending to +96650*****67"
    assert first["phone"] == "+96650*****21"
    assert first["job"] == {"task_kwargs": {"to": "055*****33", "ids": [966, 12]}}
    assert "+96650*****66" in second["exc"]


def test_masking_leaves_ids_amounts_and_timestamps_alone(json_logs):
    logging.getLogger("mawid.test").warning(
        "booking 1234567890 at 2026-12-01T09:00:00+03:00 for 15000 halalas, request 0512345678abcdef"
    )
    assert json_logs.lines()[0]["event"] == (
        "booking 1234567890 at 2026-12-01T09:00:00+03:00 for 15000 halalas, request 0512345678abcdef"
    )


# --- request size limits outside DRF -----------------------------------------------------------------------------


def _plain_view(request):
    return HttpResponse(f"{len(request.body)} bytes", content_type="text/plain")


urlpatterns = [path("api/v1/plain", _plain_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversized_body_to_a_plain_django_view_is_a_json_413_even_before_csrf():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api/v1/plain", {"field": "x" * 5000})  # form-encoded: CSRF would read it
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_django_html_errors_under_the_api_become_json():
    response = Client(enforce_csrf_checks=True).post("/api/v1/plain", {"field": "x"})
    assert response.status_code == 403  # CSRF
    assert response.json()["error"]["code"] == "permission_denied"


# --- throttles key on the real client ----------------------------------------------------------------------------


def test_anonymous_throttles_ignore_a_forged_x_forwarded_for():
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import AnonRateThrottle

    request = APIRequestFactory().get("/api/v1/services", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert AnonRateThrottle().get_ident(request) == "198.51.100.7"


def test_behind_a_trusted_proxy_throttles_key_on_the_hop_it_saw(settings):
    from rest_framework.test import APIRequestFactory
    from rest_framework.throttling import AnonRateThrottle

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    request = APIRequestFactory().get(
        "/api/v1/services", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7"
    )
    assert AnonRateThrottle().get_ident(request) == "198.51.100.7"
