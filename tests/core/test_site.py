import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.templatetags.static import static
from django.urls import reverse

from tests.conftest import production_env
from tests.questions.factories import QuestionFactory

ROOT = Path(__file__).resolve().parents[2]


def test_home_page_shows_the_blueprint_and_bank_size(client, exam):
    QuestionFactory(exam=exam, status="published")

    body = client.get(reverse("home")).content.decode()

    assert "Data Preparation for Machine Learning (ML)" in body
    assert "<strong>1</strong> published items" in body


def test_login_page_and_login(client, candidate):
    assert client.get(reverse("login")).status_code == 200

    response = client.post(reverse("login"), {"username": "cand", "password": "pw-cand-123"})

    assert response.status_code == 302
    assert response.url == reverse("home")


def test_login_never_redirects_off_site(client, candidate):
    response = client.post(
        reverse("login"), {"username": "cand", "password": "pw-cand-123", "next": "https://evil.example/"}
    )
    assert response.url == reverse("home")


def test_favicon_ico_points_browsers_at_the_site_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response.url == static("favicon.svg")
    assert client.post("/favicon.ico").status_code == 405


def test_healthz_checks_database_and_redis(client, db):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok", "celery": "ok"}}


def test_healthz_reports_a_dead_redis_as_degraded(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get(reverse("healthz"))

    assert response.status_code == 200  # exams keep working without Redis (tests/faults/test_redis_outage.py)
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"] != "ok"


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = check_deploy(production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_account_emails_would_only_be_logged():
    env = production_env()
    env.pop("EMAIL_URL")
    result = check_deploy(env)
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr + result.stdout


def test_production_refuses_the_development_secret():
    env = {**os.environ, "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_nul_bytes_are_refused_with_400(client, candidate, exam):
    client.force_login(candidate)
    assert client.get("/exams/practice/?task=1.1%00").status_code == 400
    assert client.post("/progress/rules/", {"task": "1.1", "text": "a\x00b"}).status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {"exam": "MLA-C01\x00", "sat_on": "2026-11-02", "result": "pass"},  # in a value
        {"exam": "MLA-C01", "notes\x00": "x"},  # in a key
        {"exam": "MLA-C01", "tasks": [{"code": ["1.1\x00"]}]},  # deep inside
    ],
)
def test_nul_characters_in_a_json_body_are_refused_with_400(client, candidate, exam, body):
    client.force_login(candidate)
    response = client.post("/api/v1/outcomes/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.text
    # the same document without the NUL reaches the API, which judges it on its merits (never a 500)
    clean = json.loads(json.dumps(body).replace("\\u0000", ""))
    assert client.post("/api/v1/outcomes/", json.dumps(clean), content_type="application/json").status_code < 500


def test_healthz_reports_missing_celery_workers(client, db, settings):
    from config.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        response = client.get(reverse("healthz"))
    finally:
        app.conf.task_always_eager = True
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["celery"] == "no Celery worker answered"


def test_production_request_logs_are_one_json_object_per_line():
    env = production_env()
    code = (
        "import django; django.setup(); from django.test import Client; "
        "Client(HTTP_HOST='practice.example.com', HTTP_X_FORWARDED_PROTO='https').get('/healthz')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    finished = next(line for line in lines if line["event"] == "request_finished")
    assert finished["request"] == "GET /healthz"
    assert finished["code"] in {200, 503}  # this process has no worker behind it; the log line is the point
    assert {"request_id", "user_id", "ip", "timestamp", "level"} <= finished.keys()
