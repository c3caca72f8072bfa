"""Ten simultaneous submits of one attempt (a double-click, a flaky connection retrying, several tabs) against a
real server: no server error, and the attempt scored exactly once, on PostgreSQL and on the embedded SQLite setup
(`make run`: one file, a threaded dev server, Celery tasks run in-process)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from apps.exams.models import Attempt, AttemptState
from apps.scoring.models import AttemptResult

ROOT = Path(__file__).resolve().parents[2]
SUBMITS = 10


def signed_in(base_url: str, username: str, password: str) -> requests.Session:
    """A browser-like session, signed in through the login form (CSRF and all)."""
    session = requests.Session()
    form = session.get(f"{base_url}/accounts/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    response = session.post(
        f"{base_url}/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base_url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, "login failed"
    return session


def _post(session: requests.Session, base_url: str, path: str) -> requests.Response:
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base_url}/"}
    return session.post(f"{base_url}{path}", headers=headers, allow_redirects=False, timeout=60)


def submit_at_once(session: requests.Session, base_url: str, attempt_id: int) -> list[int | str]:
    """POST the submit form ``SUBMITS`` times at the same moment, each on its own connection; the statuses."""
    barrier = threading.Barrier(SUBMITS)
    statuses: list[int | str] = [0] * SUBMITS

    def submit(n: int) -> None:
        own = requests.Session()
        own.cookies.update(session.cookies)
        barrier.wait()
        try:
            statuses[n] = _post(own, base_url, f"/exams/a/{attempt_id}/submit/").status_code
        except requests.RequestException as exc:
            statuses[n] = repr(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(SUBMITS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def results_page(session: requests.Session, base_url: str, attempt_id: int) -> str:
    return session.get(f"{base_url}/results/{attempt_id}/", timeout=60).text


@pytest.mark.django_db(transaction=True)
def test_simultaneous_submits_score_the_attempt_once_on_postgresql(live_server, exam, candidate):
    from apps.exams.services import attempt_start_mock
    from tests.exams.factories import bank_build

    bank_build(exam)
    attempt = attempt_start_mock(candidate=candidate, exam=exam, seed=1)
    session = signed_in(live_server.url, "cand", "pw-cand-123")

    statuses = submit_at_once(session, live_server.url, attempt.pk)

    assert statuses == [302] * SUBMITS  # each is sent on to the results
    assert AttemptResult.objects.filter(attempt=attempt).count() == 1
    assert Attempt.objects.get(pk=attempt.pk).state == AttemptState.SCORED
    assert "Scoring your attempt" not in results_page(session, live_server.url, attempt.pk)


# The embedded setup in a subprocess: about 10 s to migrate a fresh SQLite file and build a bank, then the server.
EMBEDDED_SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from apps.syllabus.models import Exam
from tests.exams.factories import bank_build

call_command("migrate", verbosity=0)
call_command("load_syllabus", verbosity=0)
from apps.accounts.services import preference_exam_set
c01 = Exam.objects.get(code="MLA-C01")
bank_build(c01)
preference_exam_set(user=get_user_model().objects.create_user("cand", password="pw-cand-123"), exam=c01)
"""


@pytest.fixture
def embedded_server(tmp_path):
    """`make run` in miniature: DATABASE_URL unset but for a throwaway SQLite file, no broker, runserver."""
    from tests.faults.conftest import free_port

    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    subprocess.run([sys.executable, "-c", EMBEDDED_SETUP], cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base_url}/accounts/login/", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.2)
        yield base_url, database, log
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.embedded
def test_simultaneous_submits_score_the_attempt_once_on_the_embedded_sqlite_setup(embedded_server):
    base_url, database, log = embedded_server
    session = signed_in(base_url, "cand", "pw-cand-123")

    for _ in range(3):  # a few rounds: how the threads meet varies from one to the next
        started = _post(session, base_url, "/exams/mock/start/")
        attempt_id = int(re.search(r"/exams/a/(\d+)/", started.headers["Location"]).group(1))

        statuses = submit_at_once(session, base_url, attempt_id)

        assert statuses == [302] * SUBMITS, log.read_text()[-3000:]
        assert "Scoring your attempt" not in results_page(session, base_url, attempt_id)
        with sqlite3.connect(database) as db:
            results = db.execute("SELECT count(*) FROM scoring_attemptresult WHERE attempt_id = ?", [attempt_id])
            state = db.execute("SELECT state FROM exams_attempt WHERE id = ?", [attempt_id])
            assert (results.fetchone()[0], state.fetchone()[0]) == (1, AttemptState.SCORED)


@pytest.mark.embedded
def test_the_question_page_reads_its_attempt_on_the_embedded_sqlite_setup(embedded_server):
    # The question page reads with hand-written SQL; SQLite hands back datetimes, booleans and JSON as text and
    # integers, which must arrive converted as the ORM would convert them.
    base_url, database, log = embedded_server
    session = signed_in(base_url, "cand", "pw-cand-123")
    started = _post(session, base_url, "/exams/mock/start/")
    attempt_id = int(re.search(r"/exams/a/(\d+)/", started.headers["Location"]).group(1))
    with sqlite3.connect(database) as db:
        (position,) = db.execute(
            "SELECT i.position FROM exams_attemptitem i JOIN questions_question q ON q.id = i.question_id "
            "WHERE i.attempt_id = ? AND q.type = 'single' ORDER BY i.position LIMIT 1",
            [attempt_id],
        ).fetchone()
    headers = {"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base_url}/"}
    saved = session.post(
        f"{base_url}/exams/a/{attempt_id}/q/{position}/answer/",
        {"choice": "2", "go": "stay"},
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )
    assert saved.status_code == 302, log.read_text()[-3000:]

    page = session.get(f"{base_url}/exams/a/{attempt_id}/q/{position}/", timeout=30)

    assert page.status_code == 200, log.read_text()[-3000:]
    assert f"Question {position} of 65" in page.text
    assert re.search(r'<input type="radio" name="choice" value="2" id="choice-2" data-key="2" checked>', page.text)
    assert "1 answered, 0 incomplete, 64 unanswered, 0 flagged" in page.text
    assert re.search(r'data-remaining-ms="\d+"', page.text)  # the deadline came back as a datetime
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT last_position FROM exams_attempt WHERE id = ?", [attempt_id]).fetchone() == (
            position,
        )
