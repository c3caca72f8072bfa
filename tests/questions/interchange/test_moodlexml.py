"""Moodle XML import and export: each construct from a hand-written sample, errors, safety, round trips, fuzzing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.questions.interchange import moodlexml
from apps.questions.interchange.base import Case, Item, ParseResult
from apps.questions.interchange.native import parse_bank
from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft

SAMPLES = Path(__file__).parent / "samples" / "moodlexml"
BANK = Path(__file__).resolve().parents[3] / "fixtures" / "bank"


def parse_sample(name: str) -> ParseResult:
    return moodlexml.parse((SAMPLES / name).read_bytes(), name=name)


def messages(problems: list) -> list[str]:
    return [str(problem) for problem in problems]


def clean(result: ParseResult) -> None:
    assert result.errors == []
    assert result.skipped == []


# ----------------------------------------------------------------------------------------------------------------
# Constructs, one sample each
# ----------------------------------------------------------------------------------------------------------------


def test_multichoice_single_answer_reads_html_feedback_idnumber_and_drops_partial_credit():
    # given a single-answer question written by Moodle's HTML editor, with one 50 % answer
    # when
    result = parse_sample("multichoice_single.xml")
    # then
    clean(result)
    [item] = result.items
    draft = item.draft
    assert draft.type == "single"
    assert item.ref == "MLA-0101"
    assert draft.task == ""
    assert draft.status == "draft"
    assert draft.stem == (
        "A fraud model on a SageMaker AI real-time endpoint must read the **latest** card features within 10 ms.\n\n"
        "Which feature store setup meets the requirement?"
    )
    assert draft.explanation.startswith("The online store serves the newest record per key")
    assert [choice.text for choice in draft.choices] == [
        "Query the offline store with Amazon Athena",
        "Enable the online store and call `GetRecord`",
        "Export the features to Amazon S3 each hour",
        "Cache the offline store in Amazon ElastiCache",
    ]
    assert [choice.correct for choice in draft.choices] == [False, True, False, False]
    assert draft.choices[0].rationale == "Athena queries take seconds, far beyond the budget."
    assert messages(result.warnings) == [
        'quiz/question[1] "Feature store latency" (line 4): answers worth 50% count as wrong: partial credit '
        "replaced by all-or-nothing scoring."
    ]
    assert item.warnings == [result.warnings[0].message]
    assert item.location == 'quiz/question[1] "Feature store latency" (line 4)'


def test_multichoice_multiple_response_keys_are_positive_fractions():
    # given two multiple-response questions, the second with unequal weights
    # when
    result = parse_sample("multichoice_multiple.xml")
    # then
    clean(result)
    drift, sources = result.items
    assert drift.draft.type == sources.draft.type == "multiple"
    assert drift.draft.stem.endswith("help the team **detect** the drift? (Choose two.)")
    assert [choice.correct for choice in drift.draft.choices] == [True, False, True, False]
    assert drift.draft.choices[1].rationale == "It reports spending, not data distributions."
    assert drift.draft.explanation.startswith("Model Monitor compares live traffic")
    assert [choice.correct for choice in sources.draft.choices] == [True, True, True, False]
    assert sources.ref == ""
    assert messages(result.warnings) == [
        'quiz/question[2] "Weighted training data sources" (line 40): the correct answers carry unequal fractions '
        "(50%, 30%, 20%): partial credit replaced by all-or-nothing scoring."
    ]


def test_truefalse_becomes_single_answer_with_true_and_false_options():
    # when
    result = parse_sample("truefalse.xml")
    # then
    clean(result)
    [item] = result.items
    assert item.draft.type == "single"
    assert item.draft.choices == [
        ChoiceDraft("True", "No: you choose memory size, not an instance type.", False),
        ChoiceDraft("False", "Right: Serverless Inference has no GPU option.", True),
    ]
    assert item.draft.explanation == "Serverless Inference is CPU only; use a real-time endpoint for GPUs."


def test_matching_subquestions_become_pairs_and_an_empty_one_is_a_distractor():
    # when
    result = parse_sample("matching.xml")
    # then
    clean(result)
    [item] = result.items
    assert item.draft.type == "matching"
    assert item.ref == "MLA-0104"
    assert item.draft.stem == "Match each workload to the SageMaker AI inference option that suits it best."
    assert item.draft.pairs == [
        PairDraft("Score a full table of customers once a night", "Batch transform"),
        PairDraft("Answer each checkout request within 50 ms", "Real-time inference"),
        PairDraft("Process 500 MB video files that take minutes each", "Asynchronous inference"),
        PairDraft(None, "Multi-model endpoint on a single GPU"),
    ]


def test_ordering_answers_in_file_order_with_feedback_as_rationale():
    # when
    result = parse_sample("ordering.xml")
    # then
    clean(result)
    pipeline, lifecycle = result.items
    assert pipeline.draft.type == "ordering"
    assert pipeline.draft.steps == [
        StepDraft("Run a Processing step that builds the training set", "Training needs the prepared data."),
        StepDraft("Run a Training step"),
        StepDraft("Evaluate the model and check the metric in a Condition step"),
        StepDraft(
            "Register the model version in the Model Registry", "Only a model that passed the gate is registered."
        ),
    ]
    assert [step.text for step in lifecycle.draft.steps] == [
        "Frame the business problem",
        "Collect and prepare data",
        "Train and tune",
        "Deploy",
        "Monitor",
    ]
    assert messages(result.warnings) == [
        'quiz/question[2] "Subset shown to students" (line 39): Moodle shows only 3 of the 5 items to each student; '
        "here all of them are ordered."
    ]


def test_category_task_code_sets_the_task_of_following_questions():
    # given categories .../1.2, .../3.1 and then a category that is not a task
    # when
    result = parse_sample("category.xml")
    # then
    clean(result)
    assert [(item.draft.stem.split()[0], item.draft.task) for item in result.items] == [
        ("One-hot", "1.2"),
        ("Fitting", "1.2"),
        ("A", "3.1"),
        ("Managed", ""),
    ]
    assert [item.location.split(" ")[0] for item in result.items] == [
        "quiz/question[2]",
        "quiz/question[3]",
        "quiz/question[5]",
        "quiz/question[7]",
    ]


def test_text_formats_html_is_converted_and_the_others_are_kept():
    # when
    result = parse_sample("formats.xml")
    # then
    clean(result)
    markdown, plain, auto, default_html = result.items
    assert markdown.draft.stem == "Which **metric** suits a *highly imbalanced* fraud data set?"
    assert markdown.draft.explanation == "Accuracy hides the minority class; use `PR AUC`."
    assert markdown.draft.choices[0].text == "Area under the `precision-recall` curve"
    assert plain.draft.stem == "Is 5 < 10 when comparing epoch counts & batch sizes?"
    assert auto.draft.stem == "Which instance family offers AWS Trainium chips?"
    assert auto.draft.type == "single"  # <single>1</single>
    assert default_html.draft.stem == "Which service labels images with a *human workforce*?"
    assert [choice.text for choice in default_html.draft.choices] == ["SageMaker Ground Truth", "Amazon Rekognition"]


def test_embedded_images_are_imported_and_other_files_are_warned_about():
    # when
    result = parse_sample("images.xml")
    # then
    clean(result)
    matrix, curve = result.items
    assert "![matrix](media:confusion-matrix.png)" in matrix.draft.stem
    assert matrix.media["confusion-matrix.png"].data == b"\x89PNG\r\n\x1a\n"
    assert matrix.media["confusion-matrix.png"].content_type == "image/png"
    assert matrix.draft.stem.endswith("What is the model's recall?")
    assert curve.draft.stem == "The learning curve [image not imported: curve.svg] shows overfitting after epoch 12."
    assert curve.media == {}
    assert messages(result.warnings) == [
        'quiz/question[1] "Confusion matrix reading" (line 3): file recall-notes.pdf was not imported: items carry '
        "only images (png, jpeg, gif, webp, svg) and audio (mp3, ogg, wav, m4a).",
        'quiz/question[2]/questiontext "Markdown with an embedded chart" (line 19): image curve.svg is not imported: '
        "the question has no <file> of that name.",
    ]


def test_mla_tags_carry_our_metadata_and_other_tags_are_ignored():
    # when
    result = parse_sample("tags.xml")
    # then
    clean(result)
    tagged, idnumbered = result.items
    assert tagged.ref == "MLA-0123"
    assert tagged.version == 2
    assert tagged.draft.task == "1.2"  # the tag beats the 1.1 category
    assert tagged.draft.objectives == ["1.2.3", "1.2.5"]
    assert tagged.draft.difficulty == "hard"
    assert tagged.draft.angoff == 0.55
    assert tagged.draft.references == ["https://docs.aws.amazon.com/athena/"]
    assert idnumbered.ref == "MLA-0200"  # <idnumber> beats mla-ref
    assert idnumbered.draft.task == "1.1"
    assert idnumbered.draft.angoff is None
    assert messages(result.warnings) == [
        "quiz/question[3] \"Idnumber wins over the ref tag\" (line 27): tag 'mla-angoff:about half' does not hold "
        "a number; ignored.",
        "quiz/question[3] \"Idnumber wins over the ref tag\" (line 27): unknown tag 'mla-colour:blue' ignored.",
    ]


def test_description_tagged_as_case_study_becomes_a_case_and_others_are_skipped():
    # when
    result = parse_sample("case_study.xml")
    # then
    assert result.errors == []
    assert result.cases == [
        Case(
            ref="CS-03",
            title="Demand forecasting at a grocery chain",
            scenario="A grocery chain forecasts daily demand for 20,000 products in 300 stores.\n\n"
            "Sales data lands in Amazon S3 every night and the team retrains weekly.",
            location='quiz/question[1] "Demand forecasting at a grocery chain" (line 3)',
        )
    ]
    assert [(item.ref, item.case_ref, item.case_order) for item in result.items] == [
        ("CS-03-Q1", "CS-03", 1),
        ("CS-03-Q2", "CS-03", 2),
    ]
    assert messages(result.skipped) == [
        'quiz/question[4] "Section break" (line 33): a description carries no question (it is text shown between '
        "questions)."
    ]


# ----------------------------------------------------------------------------------------------------------------
# Unsupported kinds
# ----------------------------------------------------------------------------------------------------------------


def test_unsupported_question_types_are_skipped_with_reasons():
    # when
    result = parse_sample("unsupported.xml")
    # then
    assert result.errors == []
    assert len(result.items) == 1
    assert result.items[0].location == 'quiz/question[16] "The one that imports" (line 38)'
    skipped = messages(result.skipped)
    assert len(skipped) == 15
    expected = [
        ('quiz/question[1] "Explain bias mitigation" (line 3)', "essay questions are not supported: they need a human"),
        ('quiz/question[2] "Compute recall"', "numerical questions are not supported"),
        ('quiz/question[3] "Name the tool"', "short-answer questions are not supported"),
        ('quiz/question[4] "Fill the gaps"', "embedded-answer (cloze) questions are not supported"),
        ('quiz/question[5] "Fill more gaps"', "embedded-answer (cloze) questions are not supported"),
        ('quiz/question[6] "Instance hours"', "calculated questions are not supported"),
        ('quiz/question[7] "Simple calc"', "calculated questions are not supported"),
        ('quiz/question[8] "Calc choices"', "calculated questions are not supported"),
        ('quiz/question[9] "Drag words"', "drag-and-drop-into-text questions are not supported"),
        ('quiz/question[10] "Drag onto architecture diagram"', "drag-and-drop-onto-image questions are not supported"),
        ('quiz/question[11] "Mark the subnet"', "drag-and-drop-markers questions are not supported"),
        ('quiz/question[12] "Select words"', "select-missing-words questions are not supported"),
        ('quiz/question[13] "Random matching"', "random short-answer matching questions are not supported"),
        ('quiz/question[14] "Random question"', "random questions are not supported"),
        ('quiz/question[15] "Algebra plugin"', "question type 'stack' is not supported"),
    ]
    for message, (where, reason) in zip(skipped, expected, strict=True):
        assert message.startswith(where)
        assert reason in message


# ----------------------------------------------------------------------------------------------------------------
# Malformed files
# ----------------------------------------------------------------------------------------------------------------


def test_broken_questions_are_errors_naming_the_element_and_the_reason():
    # when
    result = parse_sample("broken_questions.xml")
    # then
    assert result.items == []
    assert messages(result.errors) == [
        'quiz/question[1] "Missing type" (line 3): the question has no type attribute (e.g. <question '
        'type="multichoice">).',
        'quiz/question[2] "No answers at all" (line 7): a multichoice question needs <answer> elements; this one '
        "has none.",
        'quiz/question[3] "Nothing is correct" (line 11): no answer has a positive fraction, so the question has no '
        'correct option (give the correct answer fraction="100").',
        "quiz/question[4]/answer[2] \"Fraction is a word\" (line 21): the fraction 'half' is not a number; Moodle "
        "writes percentages such as 100 or 50.",
        'quiz/question[5] "Matching without subquestions" (line 23): a matching question needs <subquestion> '
        "elements; this one has none.",
        'quiz/question[6] "True/false without a key" (line 27): neither the true nor the false answer has a '
        "positive fraction.",
        'quiz/question[7] "Ordering without items" (line 33): an ordering question needs <answer> elements (the '
        "items to put in order).",
    ]


def test_text_that_is_not_xml_names_line_and_column():
    # when
    result = parse_sample("not_xml.xml")
    # then
    assert result.items == []
    assert messages(result.errors) == ["line 5, column 91: not well-formed XML: mismatched tag."]


def test_a_root_other_than_quiz_is_refused():
    # when
    result = parse_sample("not_quiz.xml")
    # then
    assert messages(result.errors) == [
        "<assessmentItem> (line 2): the root element is <assessmentItem>, not <quiz>: this is not a Moodle XML "
        "question file."
    ]


@pytest.mark.parametrize("data", [b"", b"   \n", "\ufeff".encode(), "\ufeff\n".encode("utf-16")])
def test_an_empty_file_is_an_error(data: bytes):
    # when
    result = moodlexml.parse(data)
    # then
    assert messages(result.errors) == ["file: the file is empty; a Moodle XML file starts with <quiz>."]


def test_a_matching_question_whose_subquestions_are_all_empty_has_no_pairs():
    # given
    data = (
        b'<quiz><question type="matching"><name><text>Only distractors</text></name>'
        b"<questiontext><text>Match.</text></questiontext>"
        b"<subquestion><text></text><answer><text>Amazon S3</text></answer></subquestion>"
        b"</question></quiz>"
    )
    # when
    result = moodlexml.parse(data)
    # then
    assert messages(result.errors) == [
        'quiz/question[1] "Only distractors" (line 1): a matching question needs at least one subquestion with '
        "text; every subquestion here is empty."
    ]


def _good_question(number: int) -> str:
    return (
        f'  <question type="multichoice">\n'
        f"    <name><text>Question {number}</text></name>\n"
        f'    <questiontext format="plain_text"><text>Which service trains model {number}?</text></questiontext>\n'
        f'    <answer fraction="100"><text>SageMaker AI</text></answer>\n'
        f'    <answer fraction="0"><text>Amazon SNS</text></answer>\n'
        f"  </question>\n"
    )


def test_the_fortieth_question_broken_yields_an_error_naming_it_and_nothing_to_import():
    # given 39 good questions and a 40th whose answer fraction is not a number
    bad = (
        '  <question type="multichoice">\n'
        "    <name><text>The broken one</text></name>\n"
        '    <questiontext format="plain_text"><text>Which store is online?</text></questiontext>\n'
        '    <answer fraction="100"><text>Online store</text></answer>\n'
        '    <answer fraction="ten"><text>Offline store</text></answer>\n'
        "  </question>\n"
    )
    text = '<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n' + "".join(map(_good_question, range(1, 40)))
    text += bad + "</quiz>\n"
    expected_line = text.count("\n", 0, text.index('fraction="ten"')) + 1
    # when
    result = moodlexml.parse(text.encode())
    # then
    assert messages(result.errors) == [
        f"quiz/question[40]/answer[2] \"The broken one\" (line {expected_line}): the fraction 'ten' is not a "
        "number; Moodle writes percentages such as 100 or 50."
    ]
    assert len(result.items) == 39  # parsed, but any error means the service imports nothing from the file


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_and_utf16_files_read_like_utf8(encoding: str):
    # given the same sample saved with a BOM / as UTF-16 (the declaration names the encoding, as editors do)
    text = (SAMPLES / "truefalse.xml").read_text(encoding="utf-8")
    if encoding == "utf-16":
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    # when
    result = moodlexml.parse(text.encode(encoding))
    # then
    assert result.errors == []
    assert result.items[0].draft.choices[1] == ChoiceDraft(
        "False", "Right: Serverless Inference has no GPU option.", True
    )


# ----------------------------------------------------------------------------------------------------------------
# XML safety
# ----------------------------------------------------------------------------------------------------------------


def test_billion_laughs_is_refused_cleanly():
    # when
    result = parse_sample("billion_laughs.xml")
    # then
    assert result.items == []
    [error] = result.errors
    assert error.location == "line 2"
    assert "declares a DTD" in error.message
    assert "refused" in error.message


def test_external_entity_is_refused_and_nothing_is_read():
    # when
    result = parse_sample("xxe.xml")
    # then
    assert result.items == []
    [error] = result.errors
    assert error.location == "line 2"
    assert "declares a DTD" in error.message
    assert "root:" not in str(result)


def test_deeply_nested_markup_is_an_error_not_a_crash():
    # given 50,000 nested tags inside a question text
    data = b'<quiz><question type="truefalse"><questiontext><text>' + b"<b>" * 50_000 + b"</b>" * 50_000
    data += b'</text></questiontext><answer fraction="100"><text>true</text></answer></question></quiz>'
    # when
    result = moodlexml.parse(data)
    # then
    assert messages(result.errors) == ["file: the XML is nested too deeply to read."]


def test_an_undeclared_entity_is_a_plain_xml_error():
    # when
    result = moodlexml.parse(b"<quiz>\n<question type='truefalse'>&secret;</question></quiz>")
    # then
    assert messages(result.errors) == ["line 2, column 28: not well-formed XML: undefined entity."]


# ----------------------------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------------------------


def _hand_made() -> tuple[list[Item], list[Case]]:
    single = Item(
        draft=QuestionDraft(
            type="single",
            stem="A team keeps **4 TB** of CSV in S3 & reads 10 of 250 columns.\n\nWhich format cuts scans < 10%?",
            explanation="Columnar formats read only the referenced columns.\nRule: few columns → Parquet.",
            task="1.1",
            objectives=["1.1.1", "1.1.14"],
            difficulty="easy",
            angoff=0.85,
            references=["https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html"],
            choices=[
                ChoiceDraft("Apache Parquet", "Columnar, so only 10 columns are read.", True),
                ChoiceDraft("gzip-compressed CSV", "Still row-based: every column is read."),
                ChoiceDraft("JSON Lines", "Row-based and more verbose."),
            ],
        ),
        ref="t11-901",
        version=3,
    )
    multiple = Item(
        draft=QuestionDraft(
            type="multiple",
            stem="Which three services can a training job read data from? (Choose three.)",
            explanation="S3, EFS and FSx for Lustre are training data sources.",
            task="1.1",
            difficulty="hard",
            choices=[
                ChoiceDraft("Amazon S3", "The default source.", True),
                ChoiceDraft("Amazon EFS", "Mountable file system.", True),
                ChoiceDraft("Amazon FSx for Lustre", "High-throughput file system.", True),
                ChoiceDraft("Amazon SQS", "A queue, not a data source."),
                ChoiceDraft("Amazon SES", "An email service."),
            ],
        ),
        ref="t11-902",
    )
    ordering = Item(
        draft=QuestionDraft(
            type="ordering",
            stem="Order the pipeline steps.",
            explanation="Prepare, train, evaluate, register.",
            task="3.3",
            objectives=["3.3.2"],
            steps=[
                StepDraft("Processing step", "Builds the data."),
                StepDraft("Training step", "Needs the data."),
                StepDraft("Condition step on the metric", "A gate."),
                StepDraft("Register the model", "Only after the gate."),
            ],
        ),
        ref="t33-901",
        case_ref="cs-9",
        case_order=1,
    )
    matching = Item(
        draft=QuestionDraft(
            type="matching",
            stem="Match each workload to an inference option.",
            explanation="Traffic shape and payload decide.",
            task="3.3",
            pairs=[
                PairDraft("Nightly scoring of a table", "Batch transform", "No endpoint needed."),
                PairDraft("Checkout requests under 50 ms", "Real-time inference", "Always-on, low latency."),
                PairDraft("500 MB videos", "Asynchronous inference", "Large payloads, queued."),
                PairDraft(None, "Serverless inference", "Cold starts and no GPUs."),
            ],
        ),
        ref="t33-902",
        case_ref="cs-9",
        case_order=2,
    )
    plain = Item(
        draft=QuestionDraft(
            type="single",
            stem="An item without a task or ref.",
            choices=[ChoiceDraft("Yes", "", True), ChoiceDraft("No")],
        )
    )
    case = Case(ref="cs-9", title="Parcel ETA predictions", scenario="A carrier runs 40,000 vans.\n\nIt wants ETAs.")
    return [single, multiple, ordering, matching, plain], [case]


def _same(before: Item, after: Item) -> None:
    assert after.draft == before.draft
    assert (after.ref, after.version, after.case_ref, after.case_order) == (
        before.ref,
        before.version,
        before.case_ref,
        before.case_order,
    )


def test_hand_made_items_of_all_four_types_and_a_case_study_round_trip_exactly():
    # given
    items, cases = _hand_made()
    # when
    exported = moodlexml.export(items, cases)
    result = moodlexml.parse(exported.data)
    # then
    assert result.errors == []
    assert result.skipped == []
    assert result.warnings == []
    assert result.cases == [
        Case(
            "cs-9", "Parcel ETA predictions", "A carrier runs 40,000 vans.\n\nIt wants ETAs.", result.cases[0].location
        )
    ]
    assert len(result.items) == len(items)
    for before, after in zip(items, result.items, strict=True):
        _same(before, after)
    assert [str(loss) for loss in exported.losses] == [
        "item t33-902: Moodle has no feedback per matching pair: the pair rationales are kept in a <feedback> "
        "element that this platform reads back but Moodle ignores, so they will not show in Moodle."
    ]


def test_export_writes_moodle_shaped_xml():
    # given
    items, cases = _hand_made()
    # when
    exported = moodlexml.export(items, cases)
    # then
    assert exported.filename == "questions.moodle.xml"
    assert exported.content_type == "application/xml"
    assert exported.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>')
    root = ET.fromstring(exported.data)  # our own output, no DTD  # noqa: S314
    questions = root.findall("question")
    assert [(q.get("type"), q.findtext("category/text")) for q in questions] == [
        ("category", "$course$/top/MLA-C01/1.1"),
        ("multichoice", None),
        ("multichoice", None),
        ("category", "$course$/top/MLA-C01/3.3"),
        ("description", None),
        ("ordering", None),
        ("matching", None),
        ("category", "$course$/top/MLA-C01"),
        ("multichoice", None),
    ]
    single, multiple = questions[1], questions[2]
    assert single.findtext("idnumber") == "t11-901"
    assert single.findtext("single") == "true"
    assert single.find("questiontext").get("format") == "markdown"
    assert [a.get("fraction") for a in single.findall("answer")] == ["100", "0", "0"]
    assert single.findtext("answer/feedback/text") == "Columnar, so only 10 columns are read."
    assert [t.text for t in single.findall("tags/tag/text")] == [
        "mla-task:1.1",
        "mla-objective:1.1.1",
        "mla-objective:1.1.14",
        "mla-difficulty:easy",
        "mla-angoff:0.85",
        "mla-version:3",
        "mla-reference:https://docs.aws.amazon.com/athena/latest/ug/columnar-storage.html",
    ]
    assert multiple.findtext("single") == "false"
    assert [a.get("fraction") for a in multiple.findall("answer")] == ["33.33333"] * 3 + ["-100"] * 2
    description, ordering, matching = questions[4], questions[5], questions[6]
    assert description.findtext("name/text") == "Parcel ETA predictions"
    assert [t.text for t in description.findall("tags/tag/text")] == ["mla-case-study:cs-9"]
    assert {tag: ordering.findtext(tag) for tag in ("layouttype", "selecttype", "selectcount", "gradingtype")} == {
        "layouttype": "VERTICAL",
        "selecttype": "ALL",
        "selectcount": "4",
        "gradingtype": "ALL_OR_NOTHING",
    }
    assert [a.get("fraction") for a in ordering.findall("answer")] == ["1", "2", "3", "4"]
    subquestions = matching.findall("subquestion")
    assert [(s.findtext("text") or "", s.findtext("answer/text")) for s in subquestions][-1] == (
        "",
        "Serverless inference",
    )
    assert questions[8].findtext("idnumber") == ""


@pytest.mark.parametrize(("keys", "fraction"), [(2, "50"), (4, "25"), (6, "16.66667"), (7, "14.28571")])
def test_multiple_response_keys_use_moodle_grade_fractions(keys: int, fraction: str):
    # given
    choices = [ChoiceDraft(f"Option {n}", correct=n < keys) for n in range(keys + 1)]
    item = Item(draft=QuestionDraft(type="multiple", stem="Pick. (Choose many.)", choices=choices))
    # when
    root = ET.fromstring(moodlexml.export([item], []).data)  # noqa: S314
    # then
    fractions = [a.get("fraction") for a in root.iter("answer")]
    assert fractions == [fraction] * keys + ["-100"]


def test_a_ref_repeated_in_one_category_travels_as_a_tag():
    # given two versions of one item in the same task
    first = Item(draft=QuestionDraft(type="single", stem="v1", task="2.1", choices=[ChoiceDraft("a", correct=True)]))
    second = Item(draft=QuestionDraft(type="single", stem="v2", task="2.1", choices=[ChoiceDraft("a", correct=True)]))
    first.ref = second.ref = "t21-001"
    first.version, second.version = 1, 2
    # when
    exported = moodlexml.export([first, second], [])
    result = moodlexml.parse(exported.data)
    # then
    root = ET.fromstring(exported.data)  # noqa: S314
    assert [q.findtext("idnumber") for q in root.findall("question[@type='multichoice']")] == ["t21-001", ""]
    assert [(item.ref, item.version) for item in result.items] == [("t21-001", 1), ("t21-001", 2)]


def test_export_reports_what_it_cannot_write():
    # given an unknown type and a text with a control character XML cannot hold
    odd = Item(draft=QuestionDraft(type="essay", stem="Discuss."), ref="x-1")
    control = Item(draft=QuestionDraft(type="single", stem="Bell\x07", choices=[ChoiceDraft("a", correct=True)]))
    # when
    exported = moodlexml.export([odd, control], [])
    # then
    assert [str(loss) for loss in exported.losses] == [
        "item x-1: type 'essay' cannot be written; item left out.",
        "item 2: control characters that XML cannot hold were removed.",
    ]
    assert moodlexml.parse(exported.data).items[0].draft.stem == "Bell"


def test_shipped_bank_exports_and_reimports_with_the_same_counts_and_case_studies():
    # given the whole shipped bank
    items: list[Item] = []
    cases: list[Case] = []
    for path in sorted(BANK.glob("*.yaml")):
        bank = parse_bank(path.read_text(encoding="utf-8"))
        assert bank.errors == []
        items += [
            Item(draft=p.draft, ref=p.ref, version=p.version, case_ref=p.case_ref, case_order=p.case_order)
            for p in bank.items
        ]
        cases += [Case(c.ref, c.title, c.scenario) for c in bank.cases]
    # when
    result = moodlexml.parse(moodlexml.export(items, cases).data)
    # then
    assert result.errors == []
    assert result.skipped == []
    assert Counter(item.draft.type for item in result.items) == Counter(item.draft.type for item in items)
    assert [(case.ref, case.title, case.scenario) for case in result.cases] == [
        (case.ref, case.title, case.scenario) for case in cases
    ]
    for before, after in zip(items, result.items, strict=True):
        before.draft.status = "draft"  # status is deliberately not carried: imports start as drafts
        _same(before, after)


# ----------------------------------------------------------------------------------------------------------------
# Fuzzing: parse never raises
# ----------------------------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _no_crash(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert not any("internal error" in problem.message for problem in result.errors)


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_bytes(data: bytes):
    _no_crash(moodlexml.parse(data))


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_text(text: str):
    _no_crash(moodlexml.parse(text.encode("utf-8", "surrogatepass")))


_WORDS = st.sampled_from(
    [
        "SageMaker",
        "true",
        "false",
        "",
        "<p>x</p>",
        "&lt;b&gt;",
        "@@PLUGINFILE@@/a.png",
        "![i](@@PLUGINFILE@@/b%20c.png)",
        '<img src="@@PLUGINFILE@@/d.jpg">',
        "mla-task:1.2",
        "mla-angoff:x",
        "mla-version:2",
        "mla-case-study:CS-1",
        "mla-case-order:-3",
        "mla-objective:",
        "$course$/top/MLA-C01/2.1",
        "<![CDATA[<b>bold]]>",
        "100",
        "-50",
        "nan",
        "1e309",
    ]
)
_TYPES = st.sampled_from(
    ["multichoice", "truefalse", "matching", "match", "ordering", "description", "category", "essay", "", "zzz"]
)


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(
        st.sampled_from(
            [
                "text",
                "name",
                "questiontext",
                "generalfeedback",
                "answer",
                "feedback",
                "subquestion",
                "single",
                "tags",
                "tag",
                "category",
                "idnumber",
                "file",
                "selecttype",
                "selectcount",
                "image",
            ]
        )
    )
    attributes = ""
    if draw(st.booleans()):
        attributes += f' fraction="{draw(_WORDS)}"'
    if draw(st.booleans()):
        attributes += (
            f' format="{draw(st.sampled_from(["html", "markdown", "plain_text", "moodle_auto_format", "x"]))}"'
        )
    if tag == "file":
        attributes += ' name="f.png"'
    children = ""
    if depth < 3:
        children = "".join(draw(st.lists(_element(depth + 1), max_size=3)))
    text = draw(_WORDS)
    if "<" in text and "CDATA" not in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;")
    return f"<{tag}{attributes}>{text}{children}</{tag}>"


_FRACTIONS = st.sampled_from(["100", "0", "50", "-100", "33.33333", "1", "", "x", "nan", "inf"])
_FORMATS = st.sampled_from(["html", "markdown", "plain_text", "moodle_auto_format", "", "x"])


@st.composite
def _part(draw: st.DrawFn) -> str:
    """One plausible child of <question>, so most examples get past the parser into the question readers."""
    word, fraction, text_format = draw(_WORDS), draw(_FRACTIONS), draw(_FORMATS)
    text = f"<text>{word}</text>" if "<" not in word or "CDATA" in word else f"<text><![CDATA[{word}]]></text>"
    kind = draw(st.integers(0, 12))
    if kind == 12:
        return draw(_element())
    if kind == 11:
        return f'<file name="{draw(st.sampled_from(["a.png", "", "b c.pdf"]))}">AA==</file>'
    if kind == 10:
        return f"<selecttype>RANDOM</selecttype><selectcount>{draw(st.integers(-2, 9))}</selectcount>"
    if kind == 9:
        return f"<idnumber>{draw(st.sampled_from(['', 'MLA-1', 'x' * 60]))}</idnumber>"
    if kind == 8:
        return f"<tags><tag>{text}</tag><tag><text>{draw(_WORDS)}</text></tag></tags>"
    if kind == 7:
        return f"<single>{draw(st.sampled_from(['true', 'false', '0', '1', '']))}</single>"
    return [
        f"<name>{text}</name>",
        f'<questiontext format="{text_format}">{text}</questiontext>',
        f'<generalfeedback format="{text_format}">{text}</generalfeedback>',
        f'<answer fraction="{fraction}" format="{text_format}">{text}<feedback>{text}</feedback></answer>',
        f'<answer fraction="{fraction}">{text}</answer>',
        f"<subquestion>{text}<answer>{text}</answer></subquestion>",
        f"<category>{text}</category>",
    ][kind]


@st.composite
def _quiz(draw: st.DrawFn) -> str:
    questions = []
    for _ in range(draw(st.integers(0, 4))):
        qtype = draw(_TYPES)
        type_attribute = f' type="{qtype}"' if qtype else ""
        questions.append(f"<question{type_attribute}>{''.join(draw(st.lists(_part(), max_size=8)))}</question>")
    return "<quiz>" + "".join(questions) + "</quiz>"


@FUZZ
@given(_quiz())
def test_fuzz_plausible_moodle_xml(text: str):
    _no_crash(moodlexml.parse(text.encode()))


def test_written_combined_feedback_is_warned_about_once_per_item_and_defaults_are_not():
    result = parse_sample("combined_feedback.xml")

    clean(result)
    written, default = result.items
    feedback_warnings = [w for w in written.warnings if "responses is not imported" in str(w)]
    assert len(feedback_warnings) == 1
    assert "the feedback written for correct and incorrect responses is not imported" in str(feedback_warnings[0])
    assert not any("responses is not imported" in str(w) for w in default.warnings)
