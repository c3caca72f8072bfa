"""The GIFT importer and exporter: one sample file per construct, malformed files, round trips and fuzzing."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.questions.interchange import gift
from apps.questions.interchange.base import Case, Item, ParseResult
from apps.questions.interchange.native import parse_bank
from apps.questions.rules import (
    MATCHING,
    MULTIPLE,
    ORDERING,
    SINGLE,
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    StepDraft,
)

SAMPLES = Path(__file__).parent / "samples" / "gift"
BANK = Path(__file__).resolve().parents[3] / "fixtures" / "bank"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_sample(name: str) -> ParseResult:
    return gift.parse((SAMPLES / name).read_bytes(), name=name)


def by_ref(result: ParseResult) -> dict[str, Item]:
    return {item.ref: item for item in result.items}


def choices(item: Item) -> list[tuple[str, bool, str]]:
    return [(choice.text, choice.correct, choice.rationale) for choice in item.draft.choices]


def messages(problems: list) -> list[str]:
    return [str(problem) for problem in problems]


# -- constructs ---------------------------------------------------------------------------------------------------
def test_category_task_codes_set_the_task_of_following_questions():
    # when
    result = parse_sample("categories.gift")

    # then
    items = by_ref(result)
    assert not result.errors
    assert items["cat-plain"].draft.task == "1.2"
    assert items["cat-exam"].draft.task == "2.1"
    assert items["cat-moodle"].draft.task == "3.3"
    assert items["cat-other"].draft.task == ""
    assert items["cat-other-2"].draft.task == ""
    assert len(result.warnings) == 1
    assert result.warnings[0].location == "line 26"
    assert "Imported from the old LMS" in result.warnings[0].message


def test_titles_comments_and_metadata():
    # when
    result = parse_sample("titles_comments.gift")

    # then
    items = by_ref(result)
    assert not result.errors
    monitored = items["mon-001"]
    assert monitored.location == "line 5"
    assert monitored.draft.stem.startswith("A model on a SageMaker AI endpoint")
    assert monitored.draft.task == "4.1"
    assert monitored.draft.objectives == ["4.1.2"]
    assert monitored.draft.difficulty == "hard"
    assert monitored.draft.angoff == 0.45
    assert monitored.version == 2
    assert monitored.draft.references == ["https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html"]
    assert monitored.draft.choices[0].text == "SageMaker Model Monitor with a data quality baseline"
    # a title longer than 40 characters is cut, with a warning
    long_ref = "A title that is much longer than forty c"
    assert long_ref in items
    assert len(long_ref) == 40
    assert any(w.location == "line 13" and "longer than 40" in w.message for w in result.warnings)
    # metadata ref wins over the GIFT title
    assert "mon-003" in items
    assert "old-moodle-name" not in items
    # broken metadata: a warning, the question is still imported
    assert items["mon-004"].draft.task == ""
    assert "line 26: mla metadata is not valid JSON; ignored." in messages(result.warnings)


def test_single_answer_with_option_feedback_and_general_feedback():
    # when
    result = parse_sample("single_answer.gift")

    # then
    assert not result.errors
    assert not result.warnings
    (item,) = result.items
    assert item.ref == "sa-001"
    assert item.draft.type == SINGLE
    assert item.draft.stem == (
        "A team needs to train a model on 5 TB of images in Amazon S3 without first copying the data to the\n"
        "training instances. Which SageMaker AI input mode fits?"
    )
    assert choices(item) == [
        ("FastFile mode", True, "Streams objects from S3 on demand behind a file interface."),
        ("File mode", False, "Copies the full dataset to the instance volume before training starts."),
        ("A local Docker volume", False, "Not a SageMaker AI input mode; it needs the data on the host first."),
    ]
    assert item.draft.explanation == (
        "Choose FastFile (or Pipe) when the dataset is large and should not be downloaded up front."
    )
    assert item.draft.task == ""
    assert item.draft.status == "draft"


def test_percentage_weights_and_multiple_response():
    # when
    result = parse_sample("weights.gift")

    # then
    items = by_ref(result)
    assert not result.errors
    equal = items["w-equal"].draft
    assert equal.type == MULTIPLE
    assert [c.correct for c in equal.choices] == [True, True, False, False, False]
    assert [c.correct for c in items["w-thirds"].draft.choices] == [True, True, True, False, False]
    unequal = items["w-unequal"].draft
    assert unequal.type == MULTIPLE
    assert [c.correct for c in unequal.choices][:2] == [True, True]
    two_equals = items["w-two-equals"].draft
    assert two_equals.type == MULTIPLE
    assert [c.correct for c in two_equals.choices] == [True, True, False, False, False]
    partial = items["w-partial"].draft
    assert partial.type == SINGLE
    assert [c.correct for c in partial.choices] == [True, False, False, False]
    assert partial.choices[0].text == "Inf2 (AWS Inferentia2)"
    one_positive = items["w-one-positive"].draft
    assert one_positive.type == SINGLE
    assert [c.correct for c in one_positive.choices] == [True, False, False]
    warnings = messages(result.warnings)
    assert warnings == [
        "line 17: the correct options have weights 70%, 30%; partial credit replaced by all-or-nothing scoring.",
        "line 25: 2 options are marked '=': imported as a multiple-response question with all of them correct.",
        "line 33: option 2 ('G5 (NVIDIA A10G)') had partial credit (50%); partial credit is dropped and it is "
        "imported as wrong.",
    ]


def test_matching_with_a_distractor():
    # when
    result = parse_sample("matching.gift")

    # then
    assert not result.errors
    (item,) = result.items
    assert item.draft.type == MATCHING
    assert item.draft.stem == "Match each data problem to the SageMaker AI tool that addresses it."
    assert [(p.prompt, p.response) for p in item.draft.pairs] == [
        ("Class imbalance before training", "SageMaker Clarify pre-training bias report"),
        ("Vanishing gradients during training", "SageMaker Debugger"),
        ("Prediction quality dropping in production", "SageMaker Model Monitor"),
        (None, "SageMaker Neo"),
    ]
    assert item.draft.explanation.startswith("Clarify measures bias")


def test_true_false_becomes_single_answer_with_feedback():
    # when
    result = parse_sample("true_false.gift")

    # then
    items = by_ref(result)
    assert not result.errors
    assert all(item.draft.type == SINGLE for item in result.items)
    assert choices(items["tf-t"]) == [("True", True, ""), ("False", False, "")]
    assert choices(items["tf-true"]) == [
        ("True", True, "Right: choose it for low latency, not for resilience."),
        ("False", False, "It is a single-AZ storage class."),
    ]
    assert choices(items["tf-f"]) == [
        ("True", False, "Data quality monitoring needs a baseline too."),
        ("False", True, ""),
    ]
    assert choices(items["tf-false"]) == [("True", False, ""), ("False", True, "")]
    assert items["tf-false"].draft.explanation == "DataBrew is a visual, no-code data preparation tool."


def test_missing_word_question_gets_a_blank_in_the_stem():
    # when
    (item,) = parse_sample("missing_word.gift").items

    # then
    assert item.draft.stem == "SageMaker AI _____ orchestrates repeatable ML workflows as a directed acyclic graph."
    assert choices(item) == [("Pipelines", True, ""), ("Ground Truth", False, ""), ("Neo", False, "")]


def test_escapes():
    # when
    result = parse_sample("escapes.gift")

    # then
    assert not result.errors
    (item,) = result.items
    assert item.ref == "esc:001"
    assert item.draft.stem == (
        'Which JSON line is a valid SageMaker AI batch transform input record { for a model that reads "features" }?'
        "\nPick one."
    )
    assert choices(item) == [
        ('{"features": [1, 2]}', True, "Braces, colons and the = sign must be escaped in GIFT."),
        ("features = 1 ~ 2", False, "The tilde ~ is not JSON."),
        ("#features 1 2", False, "A hash # starts a comment in many formats, not JSON."),
        ("C:\\data\\input.json", False, "A Windows path with backslashes \\ is not a record."),
    ]


def test_text_format_markers():
    # when
    result = parse_sample("formats.gift")

    # then
    items = by_ref(result)
    assert not result.errors
    html = items["fmt-html"]
    assert (
        html.draft.stem == "Which **SageMaker AI** feature is shown in the [image not imported: pipeline.png] diagram?"
    )
    assert choices(html) == [
        ("*Pipelines*", True, "The `@step` decorator builds it."),
        ("Experiments", False, "Tracks runs, it does not \\* orchestrate \\* them."),
        ("**Canvas**", False, ""),
    ]
    assert messages(result.warnings) == [
        "line 1: image pipeline.png is not imported: GIFT cannot carry files (only data: URIs in [html] text)."
    ]
    markdown = items["fmt-markdown"]
    assert markdown.draft.stem == "Which file format does *Athena* scan **least** of for a 3-column query?"
    assert markdown.draft.choices[2].text == "JSON\\_lines"
    assert (
        items["fmt-plain"].draft.stem == "Which S3 prefix pattern is valid: s3://bucket/data/\\*.csv or \\<prefix\\>?"
    )
    assert items["fmt-plain"].draft.choices[1].text == "A glob with \\*"
    assert items["fmt-moodle"].draft.stem == "Which service is *serverless* for SQL on S3?"


def test_ordering_matching_rationales_and_case_study_metadata():
    # when
    result = parse_sample("extensions.gift")

    # then
    assert not result.errors
    assert not result.warnings
    assert [(c.ref, c.title, c.location) for c in result.cases] == [("cs-churn", "Churn model at a telecom", "line 4")]
    assert result.cases[0].scenario == (
        "A telecom trains a **churn** model weekly on SageMaker AI from 2 TB of call records in Amazon S3.\n"
        "The model must be explainable to regulators."
    )
    items = by_ref(result)
    case_item = items["cs-churn-1"]
    assert (case_item.case_ref, case_item.case_order, case_item.draft.task) == ("cs-churn", 1, "2.3")
    ordering = items["ord-001"].draft
    assert ordering.type == ORDERING
    assert not ordering.pairs
    assert [(s.text, s.rationale) for s in ordering.steps] == [
        ("Create a SageMaker AI model from the artifact", "Packages the model."),
        ("Create an endpoint configuration", "Defines how to host it."),
        ("Create the endpoint", "Creates the endpoint."),
    ]
    matching = items["match-001"].draft
    assert [p.rationale for p in matching.pairs] == [
        "S3 is the data lake.",
        "EFS is shared NFS.",
        "Unused: archives only.",
    ]
    assert matching.pairs[2].prompt is None


def test_metadata_problems_are_warnings_and_the_questions_still_import():
    # when
    result = parse_sample("metadata_problems.gift")

    # then
    assert not result.errors
    items = by_ref(result)
    assert items["meta-1"].draft.type == MATCHING
    assert items["meta-3"].draft.difficulty == "medium"
    assert messages(result.skipped) == ["line 10: a description (text with no answer block) is not a question."]
    assert messages(result.warnings) == [
        "line 1: mla metadata is not followed by a question; ignored.",
        "line 4: mla metadata says ordering, but the prompts are not the positions 1, 2, 3...; imported as matching.",
        "line 4: mla metadata 'rationales' must be a list of 2 texts; ignored.",
        "line 10: mla metadata 'case_study' must be the case study's ref; ignored.",
        "line 13: mla metadata field 'difficulty' has an unexpected value 3; ignored.",
        "line 13: mla metadata field 'case_study' belongs on a case-study description; ignored.",
    ]


# -- unsupported and malformed --------------------------------------------------------------------------------------
def test_unsupported_kinds_are_skipped_with_reasons():
    # when
    result = parse_sample("unsupported.gift")

    # then
    assert not result.errors
    assert [item.ref for item in result.items] == ["kept"]
    assert messages(result.skipped) == [
        "line 1: essay questions are not supported: they need a human marker.",
        "line 3: numerical questions are not supported: the answer is a typed number, not a choice of options.",
        "line 5: short-answer questions are not supported: the answer is typed text, not a choice of options.",
        "line 7: a description (text with no answer block) is not a question.",
    ]


def test_malformed_questions_name_their_lines_and_the_bad_token():
    # when
    result = parse_sample("malformed.gift")

    # then
    expected = {
        "line 3": "the answer block opened with '{' on line 3 is never closed",
        "line 7": "the title opened with '::' on line 7 is never closed",
        "line 9": "option 2 on line 11 has no text",
        "line 15": "'->' pairs are mixed with an option without '->' on line 18",
        "line 21": "answer 3 on line 24 has no '->'",
        "line 27": "no correct option in the answer block on line 28",
        "line 33": "stray '}' on line 33",
        "line 35": "'{' on line 37 inside the answer block opened on line 35",
        "line 40": "a second answer block starts on line 40",
        "line 42": "text 'Neo' on line 43 comes before the first option",
        "line 48": "the matching block on line 48 has no pairs",
        "line 53": "pair 2 on line 55 has no response after '->'",
    }
    errors = {error.location: error.message for error in result.errors}
    assert list(errors) == list(expected)
    for location, fragment in expected.items():
        assert fragment in errors[location], (location, errors[location])
    assert [item.ref for item in result.items] == ["good"]


def test_a_broken_40th_question_is_reported_at_its_line():
    # given
    good = "::q{n}::Which service trains models?{{=SageMaker AI ~Amazon SNS ~Amazon SQS}}\n"
    text = "\n".join(good.format(n=n) for n in range(1, 40))
    text += "\n::q40::Which service hosts endpoints?{=SageMaker AI ~Amazon SNS\n"

    # when
    result = gift.parse(text.encode())

    # then
    assert len(result.items) == 39
    assert messages(result.errors) == [
        "line 79: the answer block opened with '{' on line 79 is never closed; a blank line ends a question, so a "
        "block cannot contain one."
    ]


def test_undecodable_bytes_are_a_file_error():
    # when
    result = gift.parse("Which is cheaper?{=Spot ~On-Demand}".encode("cp1252") + b"\xff\xfe\x00caf\xe9")

    # then
    assert result.errors
    assert result.errors[0].location == "file"
    assert not result.items


def test_utf16_and_bom_files_decode():
    # given
    text = "::u1::Which SageMaker AI feature detects drift – and bias?{=Model Monitor ~Neo}"

    # when
    utf16 = gift.parse(text.encode("utf-16"))
    bom = gift.parse(b"\xef\xbb\xbf" + text.encode())

    # then
    assert [i.draft.stem for i in utf16.items] == ["Which SageMaker AI feature detects drift – and bias?"]
    assert [i.ref for i in bom.items] == ["u1"]


def test_pathological_html_neither_hangs_nor_crashes():
    # given: unclosed tags (quadratic in Python 3.11's HTMLParser) and deeply nested lists
    unclosed = "::h1::[html]Which service?" + "<a " * 50_000 + "{=Amazon S3 ~Amazon EBS}"
    nested = "::h2::[html]Which service?" + "<ol><li>" * 5_000 + "{=Amazon S3 ~Amazon EBS}"

    # when
    started = time.monotonic()
    result = gift.parse(f"{unclosed}\n\n{nested}".encode())

    # then
    assert time.monotonic() - started < 30  # a guard against hangs (quadratic time), not a performance target
    assert [item.ref for item in result.items] == ["h1", "h2"]
    assert result.errors == []


# -- round trips ------------------------------------------------------------------------------------------------------
def fingerprint(item: Item) -> tuple:
    draft = item.draft
    return (
        item.ref,
        item.version,
        item.case_ref,
        item.case_order,
        draft.type,
        draft.stem,
        draft.explanation,
        draft.task,
        draft.objectives,
        draft.difficulty,
        draft.angoff,
        draft.references,
        [(c.text, c.correct, c.rationale) for c in draft.choices],
        [(s.text, s.rationale) for s in draft.steps],
        [(p.prompt, p.response, p.rationale) for p in draft.pairs],
    )


def hand_made() -> tuple[list[Item], list[Case]]:
    tricky = "Braces {like} these, ~tilde, = sign, #hash, colon: and \\ backslash ->arrow\n\nand a [link](https://a.b)"
    single = QuestionDraft(
        type=SINGLE,
        stem="A team streams **clickstream** events.\n\nWhich service ingests them with the LEAST overhead?",
        explanation="Rule: managed stream -> Kinesis.\n\n- bullet one\n- bullet two",
        task="1.1",
        objectives=["1.1.2"],
        difficulty="hard",
        angoff=0.55,
        references=["https://docs.aws.amazon.com/streams/latest/dev/introduction.html"],
        choices=[
            ChoiceDraft("Amazon Kinesis Data Streams -> Firehose", "Managed and serverless.", True),
            ChoiceDraft("[Deprecated] AWS Data Pipeline", "In maintenance mode.", False),
            ChoiceDraft("%50 of traffic to SQS", "[note] SQS is a queue, not a stream.", False),
            ChoiceDraft(tricky, tricky, False),
        ],
    )
    multiple = QuestionDraft(
        type=MULTIPLE,
        stem="Which settings reduce training cost? (Choose three.)",
        explanation="Spot, early stopping and warm pools each cut billed time.",
        task="2.2",
        choices=[
            ChoiceDraft("Managed Spot Training", "Up to 90% cheaper.", True),
            ChoiceDraft("Early stopping", "Stops useless epochs.", True),
            ChoiceDraft("Warm pools", "Reuse instances between jobs.", True),
            ChoiceDraft("Bigger instances", "Cost more per hour.", False),
            ChoiceDraft("More epochs", "Longer jobs cost more.", False),
        ],
    )
    ordering = QuestionDraft(
        type=ORDERING,
        stem="Order the steps to deploy a model.",
        explanation="Model, then configuration, then endpoint.",
        task="3.1",
        steps=[
            StepDraft("Create the model", "Points at the artifact."),
            StepDraft("Create the endpoint configuration", "Chooses instances -> variants."),
            StepDraft("Create the endpoint", "Provisions the instances."),
        ],
    )
    matching = QuestionDraft(
        type=MATCHING,
        stem="Match each need to a service.",
        explanation="Pick storage by access pattern.",
        task="1.1",
        pairs=[
            PairDraft("Data lake -> analytics", "Amazon S3", "Cheap and durable."),
            PairDraft("Shared NFS", "Amazon EFS -> NFS", "Elastic file system."),
            PairDraft("[Block] storage", "Amazon EBS", "One instance."),
            PairDraft(None, "Amazon S3 Glacier Deep Archive", "Archives only."),
        ],
    )
    case_item = QuestionDraft(
        type=SINGLE,
        stem="Which tool explains the predictions?",
        explanation="Clarify computes SHAP values.",
        task="1.1",
        choices=[ChoiceDraft("SageMaker Clarify", "SHAP.", True), ChoiceDraft("SageMaker Neo", "Compiles.", False)],
    )
    no_ref = QuestionDraft(
        type=SINGLE,
        stem="Untitled question?",
        choices=[ChoiceDraft("Yes", correct=True), ChoiceDraft("No")],
    )
    items = [
        Item(draft=single, ref="rt-single", version=3),
        Item(draft=multiple, ref="rt-multiple"),
        Item(draft=ordering, ref="rt-ordering"),
        Item(draft=matching, ref="rt-matching"),
        Item(draft=case_item, ref="rt-case-1", case_ref="rt-cs", case_order=1),
        Item(draft=no_ref),
    ]
    cases = [Case(ref="rt-cs", title="A {tricky}: title", scenario="A retailer...\n\n**Constraint**: cost ~ latency.")]
    return items, cases


def test_round_trip_of_all_item_types_and_a_case_study():
    # given
    items, cases = hand_made()

    # when
    exported = gift.export(items, cases)
    result = gift.parse(exported.data)

    # then
    assert exported.filename == "questions.gift.txt"
    assert exported.content_type == "text/plain; charset=utf-8"
    assert exported.losses == []
    assert not result.errors
    assert not result.warnings
    assert not result.skipped
    assert [fingerprint(item) for item in result.items] == [fingerprint(item) for item in items]
    assert [(c.ref, c.title, c.scenario) for c in result.cases] == [(c.ref, c.title, c.scenario) for c in cases]


def test_export_writes_moodle_style_gift():
    # given
    items, cases = hand_made()

    # when
    text = gift.export(items, cases).data.decode()

    # then
    assert "$CATEGORY: MLA-C01/1.1\n" in text
    assert "$CATEGORY: MLA-C01/2.2\n" in text
    assert "\t~%33.33333%Managed Spot Training#Up to 90% cheaper.\n" in text
    assert "\t~%-100%Bigger instances#Cost more per hour.\n" in text
    assert "\t=Amazon Kinesis Data Streams -\\>Firehose" not in text  # only the arrow is escaped, spacing kept
    assert "\t=Amazon Kinesis Data Streams -\\> Firehose#Managed and serverless.\n" in text
    assert "\t=1 -> Create the model\n" in text
    assert "\t= -> Amazon S3 Glacier Deep Archive\n" in text
    assert '"type": "ordering"' in text
    assert "::q-6::[markdown]Untitled question?{" in text
    assert "\t####Rule\\: managed stream -\\> Kinesis.\\n\\n- bullet one\\n- bullet two\n" in text
    assert '// mla: {"case_study": "rt-cs", "title": "A {tricky}: title"}\n::rt-cs::[markdown]A retailer' in text
    # a blank line ends a GIFT question, so none may appear inside one: every block holds at most one title line
    for block in text.strip().split("\n\n"):
        assert sum(line.startswith("::") for line in block.split("\n")) <= 1


def test_export_reports_what_gift_cannot_carry():
    # given
    no_key = Item(draft=QuestionDraft(type=SINGLE, stem="Key?", choices=[ChoiceDraft("A")]), ref="x", family="fam-1")
    long_step = Item(draft=QuestionDraft(type=ORDERING, stem="Order?", steps=[StepDraft("s" * 300)]), ref="y")

    # when
    losses = messages(gift.export([no_key, long_step], []).losses)

    # then
    assert losses == [
        "item x: has no correct option; GIFT importers will refuse it.",
        "item x: the item family (which versions belong together) has no place in GIFT.",
        "item y: a response or step is longer than 255 characters, the most a Moodle matching response holds; "
        "Moodle will refuse or cut it (our importer reads it whole).",
    ]


def test_shipped_bank_round_trips_with_the_same_counts():
    # given
    items: list[Item] = []
    cases: list[Case] = []
    for path in sorted(BANK.glob("task-*.yaml")):
        bank = parse_bank(path.read_text(encoding="utf-8"))
        assert not bank.errors
        items += [
            Item(draft=p.draft, ref=p.ref, version=p.version, case_ref=p.case_ref, case_order=p.case_order)
            for p in bank.items
        ]
        cases += [Case(ref=c.ref, title=c.title, scenario=c.scenario) for c in bank.cases]

    # when
    exported = gift.export(items, cases)
    result = gift.parse(exported.data)

    # then
    assert not exported.losses
    assert not result.errors
    assert not result.skipped
    assert not result.warnings
    assert Counter(i.draft.type for i in result.items) == Counter(i.draft.type for i in items)
    assert [(c.ref, c.title, c.scenario) for c in result.cases] == [(c.ref, c.title, c.scenario) for c in cases]
    assert [fingerprint(item) for item in result.items] == [fingerprint(item) for item in items]


# -- fuzzing ----------------------------------------------------------------------------------------------------------
def assert_clean(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert not any("internal error" in error.message for error in result.errors)


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_bytes_never_raise(data):
    assert_clean(gift.parse(data))


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_text_never_raises(text):
    assert_clean(gift.parse(text.encode("utf-8", "surrogatepass")))


TOKENS = st.sampled_from(
    [
        "{", "}", "=", "~", "#", "####", "->", "::", "\\", "\\{", "\\=", "\\n", "-\\>", "%50%", "%-100%", "%",
        "[html]", "[markdown]", "[plain]", "<b>", "</p>", "<img src='x.png'>", "T", "FALSE", "\n", "\n\n",
        "// mla: ", '{"type": "ordering"}', '{"case_study": "c"}', '{"rationales": ["a"]}', "$CATEGORY: ", "1.2",
        "1", "2", " ", "SageMaker", "text", "_____",
    ]
)  # fmt: skip


@FUZZ
@given(st.lists(TOKENS, max_size=80))
def test_fuzz_gift_like_text_never_raises(tokens):
    assert_clean(gift.parse("".join(tokens).encode()))


FIELD = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=30)


@FUZZ
@given(st.lists(st.tuples(FIELD, st.lists(st.tuples(FIELD, FIELD), min_size=2, max_size=5)), max_size=5))
def test_fuzz_export_round_trips_arbitrary_single_answer_texts(questions):
    # given: texts without surrounding whitespace (GIFT trims fields) and with one key each
    items = []
    for number, (stem, options) in enumerate(questions, start=1):
        drafted = [ChoiceDraft(text.strip() or "x", rationale.strip(), False) for text, rationale in options]
        drafted[0].correct = True
        items.append(
            Item(draft=QuestionDraft(type=SINGLE, stem=stem.strip() or "s", choices=drafted), ref=f"f{number}")
        )

    # when
    result = gift.parse(gift.export(items, []).data)

    # then
    assert_clean(result)
    assert not result.errors
    assert [fingerprint(i) for i in result.items] == [fingerprint(i) for i in items]
