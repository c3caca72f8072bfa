from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.questions.interchange import native
from apps.questions.interchange.base import ParseResult

SAMPLE = Path(__file__).parent / "samples" / "native" / "bank.json"


def test_the_sample_has_every_type_a_case_study_and_two_versions():
    result = native.parse(SAMPLE.read_bytes())

    assert result.errors == []
    assert {item.draft.type for item in result.items} == {"single", "multiple", "ordering", "matching"}
    assert [case.ref for case in result.cases] == ["t11-cs1"]
    assert sorted((i.version, i.draft.status) for i in result.items if i.ref == "t11-001") == [
        (1, "retired"),
        (2, "published"),
    ]


def test_export_then_parse_gives_the_same_items():
    parsed = native.parse(SAMPLE.read_bytes())

    again = native.parse(native.export(parsed.items, parsed.cases).data)

    assert [(i.ref, i.version, i.family, i.draft, i.case_ref, i.case_order) for i in again.items] == [
        (i.ref, i.version, i.family, i.draft, i.case_ref, i.case_order) for i in parsed.items
    ]


def test_errors_name_the_line():
    text = '{"items": [\n  {"ref": "a", "type": "single", "stem": "Q?", "angoff": "high",\n   "version": -1}\n]}'

    result = native.parse(text.encode())

    assert [str(error) for error in result.errors] == [
        "line 2: a: angoff 'high' is not a number.",
        "line 2: a: version -1 is not a positive whole number.",
    ]


def test_yaml_aliases_are_refused():
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nitems: [{stem: *c}]\n'

    result = native.parse(bomb.encode())

    assert "aliases (*name) are not allowed" in str(result.errors[0])
    assert result.items == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode)))
def test_any_input_gives_a_result_never_an_exception(data):
    assert isinstance(native.parse(data), ParseResult)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
ITEM_FIELDS = st.sampled_from(sorted(native.ITEM_KEYS))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(ITEM_FIELDS, JSON_VALUES, max_size=8), max_size=5))
def test_plausible_documents_never_raise(items):
    import json

    assert isinstance(native.parse(json.dumps({"items": items}).encode()), ParseResult)
