from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.markdown import markdown_inline_to_html, markdown_to_html
from apps.questions.interchange import aiken
from apps.questions.interchange.base import ParseResult

SAMPLES = Path(__file__).parent / "samples" / "aiken"


def test_questions_become_single_answer_items_with_their_key():
    result = aiken.parse((SAMPLES / "questions.txt").read_bytes(), name="questions.txt")

    assert result.errors == []
    assert [item.draft.type for item in result.items] == ["single"] * 3
    first = result.items[0].draft
    assert first.stem.startswith("A data scientist needs a managed service")
    assert [(c.text, c.correct) for c in first.choices][:2] == [
        ("Amazon SageMaker Ground Truth", True),
        ("Amazon Rekognition Custom Labels", False),
    ]
    # B) style options and a stem over two lines (joined, as Moodle does)
    assert result.items[1].draft.choices[0].text == "SageMaker Feature Store"
    assert result.items[2].draft.stem.splitlines() == [
        "A team wants to stop a training job early when the validation loss stops improving.",
        "Which setting of automatic model tuning does this?",
    ]
    assert result.items[2].location == "line 14"


def test_errors_name_the_line_and_the_reason():
    result = aiken.parse((SAMPLES / "broken.txt").read_bytes(), name="broken.txt")

    assert [str(error) for error in result.errors] == [
        "line 9: option C should be B: options run A, B, C... in order.",
        "line 15: ANSWER 'D' does not name one of the options A, B.",
    ]


def test_several_answers_are_read_as_multiple_response_with_a_warning():
    text = "Pick two storage formats that are columnar. (Choose two.)\nA. Parquet\nB. ORC\nC. CSV\nANSWER: A, B\n"

    result = aiken.parse(text.encode())

    assert result.items[0].draft.type == "multiple"
    assert [c.correct for c in result.items[0].draft.choices] == [True, True, False]
    assert "not standard Aiken" in str(result.warnings[0])


def test_a_missing_answer_line_is_an_error_at_the_question():
    result = aiken.parse(b"Question?\nA. one\nB. two\n\nNext?\nA. x\nB. y\nANSWER: B\n")

    assert [str(error) for error in result.errors] == ["line 1: the question has no ANSWER: line naming its key."]
    assert len(result.items) == 1


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode)))
def test_any_input_gives_a_result_never_an_exception(data):
    assert isinstance(aiken.parse(data), ParseResult)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["A. x", "B) y", "C. z", "ANSWER: A", "ANSWER: Q", "", "Stem?", "D. w"]),
            st.text(max_size=30),
        ),
        max_size=30,
    )
)
def test_aiken_like_lines_never_raise(lines):
    result = aiken.parse("\n".join(lines).encode())
    assert isinstance(result, ParseResult)


def test_a_question_ends_at_its_answer_line_without_a_blank_line_as_in_moodle():
    result = aiken.parse((SAMPLES / "no_blank_lines.txt").read_bytes())

    assert result.errors == []
    assert [item.location for item in result.items] == ["line 1", "line 6", "line 11"]
    assert [c.correct for c in result.items[2].draft.choices] == [True, False, False]


def test_html_like_text_is_shown_literally_not_sanitised_away():
    result = aiken.parse((SAMPLES / "no_blank_lines.txt").read_bytes())
    html_item = result.items[1].draft

    assert (
        markdown_to_html(html_item.stem) == '<p>Which tag starts an HTML page, as in &lt;html class="cool"&gt;?</p>\n'
    )
    assert [markdown_inline_to_html(c.text) for c in html_item.choices] == [
        "&lt;html&gt;",
        "&lt;body&gt;",
        "&amp;lt;head&amp;gt;",
    ]
