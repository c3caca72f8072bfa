"""Requests no client of ours sends: numbers beyond any database id or position, JSON nested without end.
Each gets a clear 4xx (in the API's error format under /api/), never a server error."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from apps.cohorts.models import Membership, Organisation, Role
from apps.cohorts.services import assignment_create, cohort_create
from apps.core.roles import INSTRUCTORS, TEAM_LEADS, roles_ensure
from apps.exams.services import attempt_start_practice
from apps.syllabus.models import Task
from tests.questions.factories import QuestionFactory

BIGINT_MAX = 2**63 - 1  # ids are BigAutoField: a signed 64-bit integer in PostgreSQL and SQLite alike
SMALLINT_MAX = 2**15 - 1  # positions are PositiveSmallIntegerField
HUGE = "99999999999999999999999"
PARAMETER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def _routes(patterns, prefix: str = "", converters: dict | None = None) -> list[tuple[str, str, dict]]:
    """(name, route, converters) for every URL of the site, the route still holding its ``<converter:name>``s."""
    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        found = {**(converters or {}), **getattr(pattern.pattern, "converters", {})}
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, route, found)
        elif isinstance(pattern, URLPattern):
            routes.append((pattern.name or "", route, found))
    return routes


def _takes_a_number(converter) -> bool:
    return re.fullmatch(converter.regex, "1") is not None and re.fullmatch(converter.regex, "a") is None


def numbered_routes() -> list[tuple[str, str, list[str]]]:
    """Every route with a numeric parameter (an id, a position), and the names of those parameters."""
    numbered = []
    for name, route, converters in _routes(get_resolver().url_patterns):
        numbers = [param for param, converter in converters.items() if _takes_a_number(converter)]
        if numbers:
            numbered.append((name, route, numbers))
    return numbered


def _fill(route: str, values: dict[str, str]) -> str:
    return "/" + PARAMETER.sub(lambda match: values[match.group(1)], route)


@pytest.fixture
def owner(exam):
    """One account that owns something behind every numbered URL: a superuser who is an instructor, the lead
    of a cohort with an assignment, and a candidate with an attempt in progress."""
    user = get_user_model().objects.create_superuser("owner", password="pw-owner-123")
    groups = roles_ensure()
    user.groups.add(groups[INSTRUCTORS], groups[TEAM_LEADS])
    organisation = Organisation.objects.create(name="Org", slug="org")
    Membership.objects.create(organisation=organisation, user=user, role=Role.LEAD)
    cohort = cohort_create(organisation=organisation, exam=exam, name="Ours", by=user)
    question = QuestionFactory(exam=exam, task="1.1", stem="Which one?")
    for n in range(2):
        QuestionFactory(exam=exam, task="1.1", stem=f"Question {n}?")
    task = Task.objects.get(code="1.1")
    attempt = attempt_start_practice(
        candidate=user, exam=exam, task_ids=[task.pk], count=3, timed=False, feedback="immediate"
    )
    assignment = assignment_create(
        cohort=cohort,
        by=user,
        kind="practice",
        title="Drill",
        due_at=timezone.now() + timedelta(days=3),
        task_ids=[task.pk],
        size=2,
    )
    values = {
        "attempt_id": attempt.pk,
        "position": 1,
        "option": 1,
        "cohort_id": cohort.pk,
        "user_id": user.pk,
        "assignment_id": assignment.pk,
        "pk": question.pk,
        "table": "members",
        "action": "adopt",  # a standard-setting study's action
    }
    return user, {key: str(value) for key, value in values.items()}


def _error_code(response) -> str | None:
    """The code of an API error response; None when the body is not in the API's error format."""
    if response["Content-Type"] != "application/json":
        return None
    return response.json().get("error", {}).get("code")


def _answer(response, url: str) -> str | int:
    """ "not found" when the response says so in the form its part of the site uses, else the status."""
    if url.startswith("/admin/"):
        # Past our own admin views' converter, the admin's catch-all takes the URL and, like for any unknown id,
        # says the object does not exist.
        gone = any("doesn’t exist" in str(message) for message in response.context["messages"])
        return "not found" if response.status_code == 200 and gone else response.status_code
    if url.startswith("/api/"):
        return (
            "not found"
            if response.status_code == 404 and _error_code(response) == "not_found"
            else (response.status_code)
        )
    return "not found" if response.status_code == 404 else response.status_code


def _assert_not_found(response, url: str) -> None:
    assert response.status_code == 404, (url, response.status_code)
    if url.startswith("/api/"):
        assert _error_code(response) == "not_found", url


def test_no_url_takes_a_number_beyond_what_its_column_holds():
    """A new route written with Django's unbounded ``int`` converter fails here, whatever its view does."""
    taken = []
    for _, route, numbers in numbered_routes():
        for number in numbers:
            url = _fill(route, {"table": "members", "action": "adopt", **dict.fromkeys(numbers, "1"), number: HUGE})
            try:
                match = resolve(url)
            except Resolver404:
                continue
            if match.route == route:
                taken.append(url)

    assert taken == []


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_out_of_range_number_in_any_url_is_not_found(client, owner, method):
    user, values = owner
    client.force_login(user)
    client.raise_request_exception = False  # a server error is a failed assertion here, not a crash
    answers = {}
    for _, route, numbers in numbered_routes():
        for number in numbers:
            url = _fill(route, {**values, number: HUGE})
            answers[url] = _answer(getattr(client, method)(url, follow=url.startswith("/admin/")), url)

    assert {url: answer for url, answer in answers.items() if answer != "not found"} == {}
    assert len(answers) >= 30  # every id and position of every numbered URL


@pytest.mark.django_db
def test_ids_and_positions_work_up_to_what_the_database_holds(client, owner):
    user, values = owner
    client.force_login(user)
    client.raise_request_exception = False

    # the largest id the database can hold still reaches the view, which finds no such attempt
    assert client.get(reverse("exams:review", args=[BIGINT_MAX])).status_code == 404
    assert client.get(reverse("api-attempt", args=[BIGINT_MAX])).json()["error"]["code"] == "not_found"
    # one more, and the URL matches nothing: never a query with a number the database cannot take
    for url in (
        f"/exams/a/{BIGINT_MAX + 1}/review/",
        f"/api/v1/attempts/{BIGINT_MAX + 1}/",
        f"/exams/a/{values['attempt_id']}/q/{SMALLINT_MAX + 1}/",
        f"/api/v1/attempts/{values['attempt_id']}/items/{SMALLINT_MAX + 1}/",
    ):
        _assert_not_found(client.get(url), url)
    # in range, the usual pages
    assert client.get(reverse("exams:question", args=[values["attempt_id"], 1])).status_code == 200
    assert client.get(reverse("exams:question", args=[values["attempt_id"], SMALLINT_MAX])).status_code == 404


@pytest.mark.django_db
def test_a_position_the_attempt_does_not_have_is_not_found(client, owner):
    user, values = owner
    client.force_login(user)
    client.raise_request_exception = False
    attempt, beyond = values["attempt_id"], 999  # a valid position for some attempt, not for this one of 3 items
    requests = [
        ("get", f"/exams/a/{attempt}/q/{beyond}/"),
        ("post", f"/exams/a/{attempt}/q/{beyond}/answer/"),
        ("post", f"/exams/a/{attempt}/q/{beyond}/flag/"),
        ("post", f"/exams/a/{attempt}/q/{beyond}/strike/1/"),
        ("post", f"/exams/a/{attempt}/q/{beyond}/check/"),
        ("get", f"/api/v1/attempts/{attempt}/items/{beyond}/"),
        ("post", f"/api/v1/attempts/{attempt}/items/{beyond}/answer/"),
    ]

    for method, url in requests:
        _assert_not_found(getattr(client, method)(url), url)


@pytest.mark.django_db
def test_an_unknown_api_url_answers_in_the_api_error_format(client, candidate):
    client.force_login(candidate)

    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
    # the site's pages keep their HTML 404
    assert client.get("/exams/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/attempts/", "/api/v1/questions/"])
def test_json_nested_too_deeply_is_a_parse_error(client, instructor, url):
    client.force_login(instructor)
    client.raise_request_exception = False

    response = client.post(url, "[" * 100_000, content_type="application/json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "parse_error"
    assert "nested too deeply" in error["message"]


@pytest.mark.django_db
def test_reasonably_nested_json_still_parses(client, candidate, bank):
    client.force_login(candidate)

    response = client.post(
        "/api/v1/attempts/", {"mode": "mock", "extra": [[[[{"a": [1]}]]]]}, content_type="application/json"
    )

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("value", ["²", "٣", "9" * 30])
def test_digit_like_or_huge_numbers_in_parameters_are_ignored_not_errors(client, owner, value):
    # given Unicode digits ("²" passes str.isdigit but not int) and a number no column can hold
    user, values = owner
    client.force_login(user)
    client.raise_request_exception = False

    # then every page that reads a number from its query answers without a server error
    urls = [
        f"/cohorts/{values['cohort_id']}/?page={value}",
        f"/cohorts/{values['cohort_id']}/?assignment={value}",
        f"/api/v1/cohorts/{values['cohort_id']}/analytics/?page={value}",
        f"/admin/questions/question/?blueprint_task={value}",
        f"/admin/questions/question/?blueprint_domain={value}",
        f"/admin/questions/question/?domain={value}",
        f"/admin/syllabus/objective/autocomplete/?app_label=questions&model_name=question&field_name=objectives&task={value}",
    ]
    for url in urls:
        assert client.get(url).status_code < 500, url
