"""IMS QTI 2.1/2.2 import and export (apps.questions.interchange.qti), on hand-written samples in samples/qti/."""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.markdown import markdown_to_html
from apps.questions.interchange import qti
from apps.questions.interchange.base import Case, Item, ParseResult, html_to_markdown
from apps.questions.interchange.native import parse_bank
from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft, normalise

SAMPLES = Path(__file__).parent / "samples" / "qti"
BANK = Path(__file__).resolve().parents[3] / "fixtures" / "bank"
QTI = "{http://www.imsglobal.org/xsd/imsqti_v2p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
MLA = "{urn:mla-practice:meta}"
XSI_LOCATION = "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------------------------------- helpers


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def parse_sample(name: str) -> ParseResult:
    return qti.parse(sample(name), name=name)


def line_of(name: str, marker: str) -> int:
    """The line of a sample holding a marker, so tests name lines without hard-coding them."""
    text = sample(name).decode("utf-8")
    return text[: text.index(marker)].count("\n") + 1


def only_item(result: ParseResult) -> Item:
    assert result.errors == []
    assert result.skipped == []
    assert len(result.items) == 1
    return result.items[0]


def messages(problems: list) -> list[str]:
    return [str(problem) for problem in problems]


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return buffer.getvalue()


def package_files() -> dict[str, bytes]:
    root = SAMPLES / "package"
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def item_xml(identifier: str, body: str, declaration: str = "") -> bytes:
    """A small QTI 2.1 item for tests that vary one construct."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="{identifier}" title="T"'
        ' adaptive="false" timeDependent="false">\n'
        f"{declaration}\n<itemBody>\n{body}\n</itemBody>\n</assessmentItem>\n"
    ).encode()


def manifest_xml(hrefs: list[str]) -> bytes:
    resources = "".join(
        f'<resource identifier="r{n}" type="imsqti_item_xmlv2p1" href="{href}"><file href="{href}"/></resource>\n'
        for n, href in enumerate(hrefs, 1)
    )
    return (
        '<?xml version="1.0"?>\n<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="M">\n'
        f"<organizations/>\n<resources>\n{resources}</resources>\n</manifest>\n"
    ).encode()


# ------------------------------------------------------------------------------------------------- constructs


def test_single_choice_reads_stem_prompt_options_key_rationales_and_explanation() -> None:
    # given a QTI 2.1 choiceInteraction with maxChoices="1", inline feedback per choice and a modal explanation
    # when
    item = only_item(parse_sample("choice_single.xml"))

    # then
    draft = item.draft
    assert draft.type == "single"
    assert draft.stem == (
        "A fraud model runs on a SageMaker AI real-time endpoint backed by two `ml.c5.xlarge` instances. "
        "Traffic triples every weekday between 09:00 and 11:00, and latency then breaks the 100 ms target.\n\n"
        "Which change keeps latency within target at the **lowest** cost?"
    )
    assert [c.text for c in draft.choices] == [
        "Move to a larger instance type and keep two instances all day",
        "Add a target-tracking scaling policy on invocations per instance",
        "Switch the endpoint to asynchronous inference",
        "Put an Amazon CloudFront distribution in front of the endpoint",
    ]
    assert [c.correct for c in draft.choices] == [False, True, False, False]
    assert draft.choices[0].rationale == "Larger instances pay for peak capacity around the clock."
    assert draft.choices[3].rationale == "Every transaction gets its own score, so a cache has nothing to reuse."
    assert draft.explanation == (
        "A predictable daily peak calls for automatic scaling: target tracking on *InvocationsPerInstance* "
        "follows the load."
    )
    assert item.ref == "endpoint-scaling-01"
    assert item.location == (
        "choice_single.xml: assessmentItem[@identifier='endpoint-scaling-01'] "
        "(title 'Scaling a real-time endpoint', line 2)"
    )
    assert draft.task == ""
    assert draft.status == "draft"


def test_multiple_choice_with_unlimited_max_choices_and_block_feedback() -> None:
    # given a QTI 2.2 choiceInteraction with maxChoices="0", two correct values and a two-paragraph feedbackBlock
    # when
    item = only_item(parse_sample("choice_multiple.xml"))

    # then
    draft = item.draft
    assert draft.type == "multiple"
    assert draft.stem.endswith("Which two steps does SageMaker Model Monitor need? (Choose two.)")
    assert [c.text for c in draft.choices if c.correct] == [
        "Enable data capture on the endpoint",
        "Create a baseline from the training dataset",
    ]
    assert draft.choices[2].rationale == (
        "The baseline job computes statistics and constraints.\n\n"
        "Monitoring jobs compare captured traffic against them."
    )
    assert draft.choices[1].rationale == ""
    assert draft.explanation == "Model Monitor compares captured requests with a baseline."


def test_keys_come_from_positive_mapping_entries_with_a_partial_credit_warning() -> None:
    # given no correctResponse, and a mapping worth 1, 1, 0.5, -1 and 0
    # when
    result = parse_sample("choice_mapping.xml")

    # then the positive entries are the keys, scored all-or-nothing
    item = only_item(result)
    assert item.draft.type == "multiple"
    assert [c.correct for c in item.draft.choices] == [True, True, True, False, False]
    assert messages(result.warnings) == [
        "choice_mapping.xml: assessmentItem[@identifier='feature-store-03'] (title 'Feature store choices', line 2): "
        "partial credit replaced by all-or-nothing scoring."
    ]


def test_modal_feedback_named_after_a_choice_is_its_rationale_and_custom_processing_is_ignored() -> None:
    # given modalFeedback identifiers equal to choice identifiers, a CORRECT modal and custom responseProcessing
    # when
    item = only_item(parse_sample("choice_modal_rationale.xml"))

    # then
    draft = item.draft
    assert [(c.text, c.correct) for c in draft.choices] == [
        ("Managed spot training", True),
        ("Warm pools", False),
        ("Pipe input mode", False),
    ]
    assert draft.choices[1].rationale == "Warm pools cut start-up time, not the price of compute."
    assert draft.explanation == "Interruptible jobs with checkpoints are the classic case for spot capacity."
    assert draft.stem == (
        "Nightly training jobs that checkpoint to Amazon S3 every 10 minutes cost too much.\n\n"
        "What lowers the cost the most?"
    )


def test_true_false_item_without_namespace_is_single_answer() -> None:
    # when
    item = only_item(parse_sample("true_false.xml"))

    # then
    assert item.draft.type == "single"
    assert [(c.text, c.correct) for c in item.draft.choices] == [("True", False), ("False", True)]
    assert item.draft.stem == "SageMaker AI batch transform keeps an endpoint running after the job ends."


def test_order_interaction_lists_steps_in_the_correct_order() -> None:
    # given choices written in a shuffled order and an ordered correctResponse
    # when
    item = only_item(parse_sample("order.xml"))

    # then
    draft = item.draft
    assert draft.type == "ordering"
    assert [(s.text, s.rationale) for s in draft.steps] == [
        ("Run a processing job that cleans and splits the data", "Everything downstream needs clean splits."),
        ("Train the model", "Training reads the processed splits."),
        ("Evaluate the model on the test split", "The evaluation report feeds the registration condition."),
        ("Register the model version in the Model Registry", "Only a model that passed evaluation is registered."),
    ]
    assert draft.explanation == "Data flows from processing to training to evaluation; registration comes last."
    assert draft.stem.endswith("Put the steps in the order the pipeline runs them.")


def test_match_interaction_pairs_prompts_with_responses_and_keeps_unused_responses() -> None:
    # given three prompts (two share a response), two responses that no pair uses (one with feedback)
    # when
    item = only_item(parse_sample("match.xml"))

    # then
    draft = item.draft
    assert draft.type == "matching"
    assert draft.stem == "Match each need to the SageMaker AI capability that meets it."
    assert [(p.prompt, p.response, p.rationale) for p in draft.pairs] == [
        (
            "Measure class imbalance in the training data",
            "SageMaker Clarify",
            "Clarify computes pre-training bias metrics.",
        ),
        (
            "Explain a single prediction with feature attributions",
            "SageMaker Clarify",
            "Clarify also produces SHAP attributions.",
        ),
        (
            "Alert when live inputs drift from the baseline",
            "SageMaker Model Monitor",
            "Model Monitor compares captured data with a baseline.",
        ),
        (None, "SageMaker Ground Truth", "Ground Truth labels data; it does not analyse models."),
        (None, "Amazon Augmented AI", ""),
    ]
    assert draft.explanation == "Clarify covers bias and explainability; Model Monitor covers drift."


def test_match_prompt_without_a_correct_pair_is_left_out_with_a_warning() -> None:
    # when
    result = parse_sample("match_unpaired_prompt.xml")

    # then
    item = only_item(result)
    assert [(p.prompt, p.response) for p in item.draft.pairs] == [
        ("Durable data lake", "Amazon S3"),
        ("Fast scratch space for one training run", "Amazon FSx for Lustre"),
    ]
    line = line_of("match_unpaired_prompt.xml", 'identifier="tape"')
    assert messages(result.warnings) == [
        "match_unpaired_prompt.xml: assessmentItem[@identifier='storage-match-08']/itemBody/matchInteraction/"
        f"simpleMatchSet[1]/simpleAssociableChoice[3] (line {line}): prompt 'tape' has no correct response, "
        "so it is left out: each of our prompts needs one."
    ]


def test_match_prompt_with_two_correct_responses_is_skipped() -> None:
    # when
    result = parse_sample("match_one_to_many.xml")

    # then
    assert result.items == []
    assert result.errors == []
    assert messages(result.skipped) == [
        "match_one_to_many.xml: assessmentItem[@identifier='encryption-match-09'] (title 'Encryption options', "
        "line 2): prompt 'rest' has 2 correct responses; our matching gives each prompt one."
    ]


def test_associate_interaction_takes_the_first_of_each_pair_as_the_prompt() -> None:
    # when
    item = only_item(parse_sample("associate.xml"))

    # then
    assert item.draft.type == "matching"
    assert [(p.prompt, p.response, p.rationale) for p in item.draft.pairs] == [
        (
            "Encrypt model artifacts with a key the team controls",
            "AWS KMS customer managed key",
            "A customer managed KMS key can be rotated and revoked.",
        ),
        ("Keep training traffic off the public internet", "VPC interface endpoints", ""),
        (None, "Amazon Macie", "Macie finds sensitive data; it does not encrypt or route traffic."),
    ]


def test_loose_images_and_video_objects_are_reported_and_a_long_identifier_is_cut_to_40_characters() -> None:
    # when
    result = parse_sample("images.xml")

    # then
    item = only_item(result)
    assert item.ref == "architecture-diagram-question-with-a-ver"
    assert "[image not imported: media/pipeline.png]" in item.draft.stem
    assert item.draft.choices[0].text == "The feature lookup [image not imported: media/lookup.svg]"
    where = item.location
    assert sorted(messages(result.warnings)) == sorted(
        [
            f"{where}: image media/pipeline.png is not imported: it is not in the upload (a single item file "
            "carries no files).",
            f"{where}: image media/lookup.svg is not imported: it is not in the upload (a single item file "
            "carries no files).",
            f"{where}: media file media/walkthrough.mp4 is not imported: items carry only images and audio.",
            f"{where}: the identifier is longer than 40 characters; the ref is cut to "
            "'architecture-diagram-question-with-a-ver'.",
        ]
    )


def test_content_package_imports_the_items_its_manifest_lists() -> None:
    # given a TAO-style package: a test resource, a URL-encoded item href, a stylesheet resource
    # when
    result = qti.parse(zip_of(package_files()), name="ml-ops.zip")

    # then
    assert result.errors == []
    assert [(i.ref, i.draft.type) for i in result.items] == [
        ("registry-approval", "single"),
        ("shadow-testing", "ordering"),
    ]
    assert [s.text for s in result.items[1].draft.steps] == [
        "Deploy the new model as a shadow variant",
        "Compare its predictions and latency with production",
        "Promote the shadow variant to production",
    ]
    assert result.items[0].location.startswith("items/registry approval.xml: assessmentItem[@identifier=")
    line = line_of("package/imsmanifest.xml", 'identifier="quiz"')
    assert messages(result.warnings) == [
        f"imsmanifest.xml: manifest/resources/resource[1] (line {line}): the assessmentTest is not imported "
        "(sections, order, time limits); its items are imported from their own resources."
    ]


def test_package_item_missing_from_the_zip_is_an_error_naming_the_href() -> None:
    # given the manifest lists items/shadow.xml but the ZIP lacks it
    files = package_files()
    del files["items/shadow.xml"]

    # when
    result = qti.parse(zip_of(files), name="ml-ops.zip")

    # then
    line = line_of("package/imsmanifest.xml", 'identifier="item-shadow"')
    assert messages(result.errors) == [
        f"imsmanifest.xml: manifest/resources/resource[3] (line {line}): item file 'items/shadow.xml' is listed in "
        "the manifest but is not in the ZIP."
    ]


def test_zip_without_manifest_imports_every_assessment_item_with_a_warning() -> None:
    # given item files, an assessmentTest and a macOS resource fork, but no manifest
    files = {
        "quiz/choice_single.xml": sample("choice_single.xml"),
        "quiz/order.xml": sample("order.xml"),
        "quiz/test.xml": (SAMPLES / "package/tests/ml-ops-quiz.xml").read_bytes(),
        "__MACOSX/quiz/._order.xml": b"\x00\x05\x16\x07 not xml",
    }

    # when
    result = qti.parse(zip_of(files), name="loose.zip")

    # then
    assert result.errors == []
    assert [i.ref for i in result.items] == ["endpoint-scaling-01", "pipeline-order-06"]
    assert messages(result.warnings) == [
        "loose.zip: the ZIP has no imsmanifest.xml; imported every assessmentItem file found in it."
    ]


def test_utf16_and_utf8_bom_files_read_like_utf8() -> None:
    # given the same item as UTF-16 (with BOM and a matching declaration) and as UTF-8 with a BOM
    text = sample("choice_single.xml").decode("utf-8")
    utf16 = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    bom = b"\xef\xbb\xbf" + text.encode("utf-8")

    # when
    expected = only_item(qti.parse(text.encode("utf-8"))).draft

    # then
    assert only_item(qti.parse(utf16)).draft == expected
    assert only_item(qti.parse(bom)).draft == expected


# ----------------------------------------------------------------------------------------------- malformed


def test_not_well_formed_xml_names_line_and_column() -> None:
    # when
    result = parse_sample("broken_xml.xml")

    # then
    line = line_of("broken_xml.xml", "</simplechoice>")
    assert result.items == []
    assert len(result.errors) == 1
    assert result.errors[0].location.startswith(f"broken_xml.xml: line {line}, column ")
    assert result.errors[0].message == "not well-formed XML (mismatched tag)."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (sample("qti12.xml"), "this is QTI 1.2 (questestinterop), which is not supported; export QTI 2.1 or 2.2."),
        (b"<quiz><question/></quiz>", "the root element is <quiz>, not a QTI 2.1/2.2 assessmentItem."),
        (
            (SAMPLES / "package/tests/ml-ops-quiz.xml").read_bytes(),
            "an assessmentTest only refers to item files; upload the content package (ZIP) with its items.",
        ),
        (
            sample("package/imsmanifest.xml"),
            "an imsmanifest.xml on its own only lists item files; upload the whole content package (ZIP).",
        ),
        (sample("qti3.xml"), "QTI 3.0 is not supported; export QTI 2.1 or 2.2."),
        (
            b'<assessmentItem xmlns="urn:other" identifier="x"/>',
            "namespace 'urn:other' is not QTI 2.1 or 2.2 (http://www.imsglobal.org/xsd/imsqti_v2p1 or "
            "http://www.imsglobal.org/xsd/imsqti_v2p2).",
        ),
    ],
)
def test_files_that_are_not_qti_2_items_are_errors(data: bytes, message: str) -> None:
    # when
    result = qti.parse(data, name="upload.xml")

    # then
    assert result.items == []
    assert [problem.message for problem in result.errors] == [message]
    assert result.errors[0].location.startswith("upload.xml: ")


def test_qti3_package_is_refused_with_the_same_message() -> None:
    # given a manifest whose resources are QTI 3 items
    manifest = manifest_xml(["item.xml"]).replace(b"imsqti_item_xmlv2p1", b"imsqti_item_xmlv3p0")

    # when
    result = qti.parse(zip_of({"imsmanifest.xml": manifest, "item.xml": sample("qti3.xml")}))

    # then
    assert [problem.message for problem in result.errors] == ["QTI 3.0 is not supported; export QTI 2.1 or 2.2."]


def test_choice_interaction_without_simple_choices_is_an_error_at_the_interaction() -> None:
    # when
    result = parse_sample("no_choices.xml")

    # then
    line = line_of("no_choices.xml", "<choiceInteraction")
    assert messages(result.errors) == [
        f"no_choices.xml: assessmentItem[@identifier='empty-19']/itemBody/choiceInteraction (line {line}): "
        "the choiceInteraction has no simpleChoice, so the question has no options."
    ]
    assert result.items == []


def test_correct_response_naming_a_missing_choice_is_an_error_at_the_value() -> None:
    # when
    result = parse_sample("bad_key.xml")

    # then
    line = line_of("bad_key.xml", "<value>E</value>")
    assert messages(result.errors) == [
        f"bad_key.xml: assessmentItem[@identifier='bad-key-20']/responseDeclaration/correctResponse/value "
        f"(line {line}): the correctResponse names choice 'E', which does not exist (choices: A, B, C)."
    ]


def test_item_without_any_key_is_an_error() -> None:
    # when
    result = parse_sample("no_key.xml")

    # then
    assert messages(result.errors) == [
        "no_key.xml: assessmentItem[@identifier='no-key-21']/responseDeclaration (line 4): no correct answer: "
        "the responseDeclaration has no correctResponse and no mapEntry with a positive mappedValue."
    ]


CHOICES = '<simpleChoice identifier="A">Athena</simpleChoice><simpleChoice identifier="B">Glue</simpleChoice>'
KEY_A = (
    '<responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">'
    "<correctResponse><value>A</value></correctResponse></responseDeclaration>"
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            item_xml(
                "q", f'<choiceInteraction responseIdentifier="OTHER" maxChoices="1">{CHOICES}</choiceInteraction>'
            ),
            "responseIdentifier 'OTHER' has no responseDeclaration with that identifier.",
        ),
        (
            item_xml(
                "q",
                '<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1"><simpleChoice identifier="A">x'
                '</simpleChoice><simpleChoice identifier="A">y</simpleChoice></choiceInteraction>',
                KEY_A,
            ),
            "identifier 'A' is used by another choice too.",
        ),
        (
            item_xml(
                "q",
                f'<choiceInteraction responseIdentifier="RESPONSE" maxChoices="one">{CHOICES}</choiceInteraction>',
                KEY_A,
            ),
            "maxChoices 'one' is not a whole number of 0 or more.",
        ),
        (
            b'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2" identifier="q"/>',
            "the item has no itemBody, so there is no question to read.",
        ),
        (
            item_xml(
                "q",
                '<matchInteraction responseIdentifier="RESPONSE"><simpleMatchSet>'
                '<simpleAssociableChoice identifier="P" matchMax="1">Prompt</simpleAssociableChoice></simpleMatchSet>'
                '<simpleMatchSet><simpleAssociableChoice identifier="R" matchMax="1">Response</simpleAssociableChoice>'
                "</simpleMatchSet></matchInteraction>",
                '<responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="directedPair">'
                "<correctResponse><value>R P</value></correctResponse></responseDeclaration>",
            ),
            "directedPair 'R P' names a response first; the first identifier must come from the first simpleMatchSet "
            "(the prompts).",
        ),
        (
            item_xml(
                "q",
                '<orderInteraction responseIdentifier="RESPONSE"><simpleChoice identifier="A">a</simpleChoice>'
                '<simpleChoice identifier="B">b</simpleChoice></orderInteraction>',
                '<responseDeclaration identifier="RESPONSE" cardinality="ordered" baseType="identifier"/>',
            ),
            "no correct answer: the responseDeclaration has no correctResponse.",
        ),
        (b"", "not well-formed XML (no element found)."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not well-formed XML (not well-formed (invalid token))."),
    ],
)
def test_structural_problems_are_errors_with_a_reason(data: bytes, message: str) -> None:
    # when
    result = qti.parse(data, name="item.xml")

    # then
    assert [problem.message for problem in result.errors] == [message]
    assert result.errors[0].location.startswith("item.xml")
    assert result.items == []


def test_a_package_whose_40th_item_is_broken_reports_that_item_and_nothing_is_imported() -> None:
    # given 39 good items and a 40th whose key names a choice that does not exist
    good = sample("choice_single.xml")
    files = {f"items/q{n}.xml": good.replace(b"endpoint-scaling-01", f"q{n}".encode()) for n in range(1, 40)}
    files["items/q40.xml"] = sample("bad_key.xml")
    files["imsmanifest.xml"] = manifest_xml(list(files))

    # when
    result = qti.parse(zip_of(files), name="forty.zip")

    # then
    line = line_of("bad_key.xml", "<value>E</value>")
    assert messages(result.errors) == [
        f"items/q40.xml: assessmentItem[@identifier='bad-key-20']/responseDeclaration/correctResponse/value "
        f"(line {line}): the correctResponse names choice 'E', which does not exist (choices: A, B, C)."
    ]
    assert len(result.items) == 39  # the service imports nothing from a file with errors


def test_thousands_of_broken_choices_are_reported_briefly_and_quickly() -> None:
    # given 30,000 simpleChoices without identifiers inside 40 nested divs
    choices = "<simpleChoice>x</simpleChoice>" * 30_000
    body = (
        "<div>" * 40 + f'<choiceInteraction responseIdentifier="RESPONSE">{choices}</choiceInteraction>' + "</div>" * 40
    )

    # when
    result = qti.parse(item_xml("many", body, KEY_A), name="many.xml")

    # then only the first problems are listed, and deep paths are abbreviated
    assert len(result.errors) == qti.MAX_ITEM_PROBLEMS
    assert result.errors[0].message == "the simpleChoice has no identifier."
    location = result.errors[0].location
    assert location.startswith("many.xml: assessmentItem[@identifier='many']/…/div/")
    assert location.endswith("/div/choiceInteraction/simpleChoice[1] (line 5)")
    assert [w.message for w in result.warnings] == ["more than 20 problems; the rest are not listed."]


def test_elements_nested_too_deeply_are_a_clean_error() -> None:
    # given an interaction inside 20,000 nested divs
    body = "<div>" * 20_000 + f'<choiceInteraction responseIdentifier="RESPONSE">{CHOICES}</choiceInteraction>'
    data = item_xml("deep", body + "</div>" * 20_000, KEY_A)

    # when
    result = qti.parse(data, name="deep.xml")

    # then
    assert messages(result.errors) == [
        "deep.xml: assessmentItem[@identifier='deep'] (title 'T', line 2): the item's elements are nested too deeply "
        "to read."
    ]


# --------------------------------------------------------------------------------------------- unsupported

UNSUPPORTED_BODIES = {
    "textEntryInteraction": '<p>Metric: <textEntryInteraction responseIdentifier="RESPONSE"/></p>',
    "extendedTextInteraction": '<extendedTextInteraction responseIdentifier="RESPONSE"/>',
    "inlineChoiceInteraction": '<p><inlineChoiceInteraction responseIdentifier="RESPONSE"><inlineChoice '
    'identifier="A">L1</inlineChoice></inlineChoiceInteraction></p>',
    "gapMatchInteraction": '<gapMatchInteraction responseIdentifier="RESPONSE"><gapText identifier="G" matchMax="1">'
    'S3</gapText><p>Store data in <gap identifier="X"/>.</p></gapMatchInteraction>',
    "hottextInteraction": '<hottextInteraction responseIdentifier="RESPONSE"><p>Use <hottext identifier="H">Spot'
    "</hottext> capacity.</p></hottextInteraction>",
    "hotspotInteraction": '<hotspotInteraction responseIdentifier="RESPONSE"><object data="a.png" type="image/png"/>'
    "</hotspotInteraction>",
    "graphicOrderInteraction": '<graphicOrderInteraction responseIdentifier="RESPONSE"/>',
    "graphicAssociateInteraction": '<graphicAssociateInteraction responseIdentifier="RESPONSE"/>',
    "graphicGapMatchInteraction": '<graphicGapMatchInteraction responseIdentifier="RESPONSE"/>',
    "selectPointInteraction": '<selectPointInteraction responseIdentifier="RESPONSE"/>',
    "positionObjectInteraction": '<positionObjectStage><positionObjectInteraction responseIdentifier="RESPONSE"/>'
    "</positionObjectStage>",
    "sliderInteraction": '<sliderInteraction responseIdentifier="RESPONSE" lowerBound="0" upperBound="1"/>',
    "uploadInteraction": '<uploadInteraction responseIdentifier="RESPONSE"/>',
    "drawingInteraction": '<drawingInteraction responseIdentifier="RESPONSE"/>',
    "mediaInteraction": '<mediaInteraction responseIdentifier="RESPONSE" autostart="false"/>',
    "customInteraction": '<customInteraction responseIdentifier="RESPONSE"/>',
    "portableCustomInteraction": '<portableCustomInteraction responseIdentifier="RESPONSE"/>',
}


@pytest.mark.parametrize("kind", sorted(UNSUPPORTED_BODIES))
def test_unsupported_interactions_are_skipped_with_a_reason(kind: str) -> None:
    # when
    result = qti.parse(item_xml("u1", UNSUPPORTED_BODIES[kind]), name="u.xml")

    # then
    assert result.errors == []
    assert result.items == []
    assert messages(result.skipped) == [
        f"u.xml: assessmentItem[@identifier='u1'] (title 'T', line 2): {qti._UNSUPPORTED[kind]}."
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text_entry.xml", "text-entry (fill-in-the-blank) questions are not supported: candidates type the answer."),
        ("essay.xml", "essay (extended text) questions are not supported: they need a human marker."),
        (
            "two_interactions.xml",
            "the item has 2 interactions (choiceInteraction, textEntryInteraction); our questions have exactly one.",
        ),
        ("no_interaction.xml", "the item has no interaction, so there is nothing to answer."),
    ],
)
def test_unsupported_sample_items_are_skipped(name: str, reason: str) -> None:
    # when
    result = parse_sample(name)

    # then
    assert result.errors == []
    assert result.items == []
    assert [problem.message for problem in result.skipped] == [reason]


def test_templated_items_and_select_and_order_are_skipped() -> None:
    # given a templated choice item and an order item whose key orders only two of three choices
    templated = item_xml(
        "tpl", f'<choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">{CHOICES}</choiceInteraction>', KEY_A
    ).replace(b"<itemBody>", b'<templateDeclaration identifier="N" cardinality="single" baseType="integer"/><itemBody>')
    partial = item_xml(
        "ord",
        '<orderInteraction responseIdentifier="RESPONSE"><simpleChoice identifier="A">a</simpleChoice><simpleChoice '
        'identifier="B">b</simpleChoice><simpleChoice identifier="C">c</simpleChoice></orderInteraction>',
        '<responseDeclaration identifier="RESPONSE" cardinality="ordered" baseType="identifier"><correctResponse>'
        "<value>B</value><value>A</value></correctResponse></responseDeclaration>",
    )

    # when
    skipped = [qti.parse(templated).skipped, qti.parse(partial).skipped]

    # then
    assert [[p.message for p in problems] for problems in skipped] == [
        ["templated items (templateDeclaration/templateProcessing) are not supported: they generate different values "
         "for every attempt."],
        ["the correct order uses 2 of the 3 choices (select-and-order); our ordering items put every step in order."],
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------------ safety


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_bomb_and_external_entity_are_refused_cleanly(name: str) -> None:
    # when the file is uploaded alone and inside a package
    alone = parse_sample(name)
    packaged = qti.parse(zip_of({"imsmanifest.xml": manifest_xml(["item.xml"]), "item.xml": sample(name)}))

    # then
    expected = (
        "the file has a DOCTYPE (DTD), which is refused: QTI files do not need one, and DTDs can carry entity "
        "bombs or external-entity (XXE) reads."
    )
    assert messages(alone.errors) == [f"{name}: line 2: {expected}"]
    assert messages(packaged.errors) == [f"item.xml: line 2: {expected}"]
    assert alone.items == packaged.items == []


def _patch_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag of every entry (zipfile cannot write encrypted archives)."""
    raw = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) >= 0:
            raw[start + offset] |= 0x01
            start += 4
    return bytes(raw)


def test_encrypted_zip_entries_are_refused() -> None:
    # when
    result = qti.parse(_patch_encrypted(zip_of({"item.xml": sample("order.xml")})), name="secret.zip")

    # then
    assert messages(result.errors) == [
        "secret.zip: item.xml: the entry is encrypted; export the package without a password."
    ]


def test_zip_with_too_many_entries_is_refused() -> None:
    # when
    result = qti.parse(zip_of({f"f{n}.txt": b"" for n in range(5001)}), name="many.zip")

    # then
    assert messages(result.errors) == ["many.zip: the ZIP has 5001 entries; packages with more than 5000 are refused."]


def test_zip_bomb_entry_is_refused_by_its_expansion_ratio() -> None:
    # given a 20 MB entry of zeros that deflates to about 20 KB
    data = zip_of({"imsmanifest.xml": manifest_xml(["item.xml"]), "item.xml": b"<a>" + b" " * (20 << 20) + b"</a>"})

    # when
    result = qti.parse(data, name="bomb.zip")

    # then
    assert messages(result.errors) == [
        "bomb.zip: item.xml: the entry expands to more than 100 times its compressed size; refused as a possible "
        "ZIP bomb."
    ]


def test_zip_total_size_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a cap of 200 KB and two incompressible 150 KB XML files
    monkeypatch.setattr(qti, "MAX_TOTAL_BYTES", 200_000)
    filler = os.urandom(75_000).hex().encode()
    files = {f"q{n}.xml": b"<a>" + filler + b"</a>" for n in (1, 2)}

    # when
    result = qti.parse(zip_of(files), name="big.zip")

    # then
    assert [problem.location for problem in result.errors] == ["big.zip: q2.xml"]
    assert result.errors[0].message.startswith("the package expands to more than 0.19")


def test_zip_header_that_lies_about_sizes_gives_a_clean_error() -> None:
    # given an entry whose central directory claims 10 bytes but which holds 200 KB
    data = bytearray(zip_of({"item.xml": b"<a>" + b"x" * 200_000 + b"</a>"}))
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")

    # when
    result = qti.parse(bytes(data), name="liar.zip")

    # then
    assert len(result.errors) == 1
    assert result.errors[0].location == "liar.zip: item.xml"
    assert result.errors[0].message.startswith("the entry cannot be read")


def test_truncated_zip_is_a_clean_error() -> None:
    # when
    result = qti.parse(zip_of(package_files())[:200], name="cut.zip")

    # then
    assert len(result.errors) == 1
    assert result.errors[0].location == "cut.zip"
    assert result.errors[0].message.startswith("not a readable ZIP file")


# ------------------------------------------------------------------------------------------------- export


def hand_made() -> tuple[list[Item], list[Case]]:
    """One item of each type with every field we carry, plus a case study."""
    single = Item(
        ref="rt-single",
        version=3,
        case_ref="rt-case",
        case_order=1,
        draft=QuestionDraft(
            type="single",
            stem="A model on an `ml.g5.xlarge` endpoint is **slow** at peak.\n\nWhich change helps MOST?",
            explanation="Scale out with a policy.\n\n- Target tracking follows load\n- Step scaling reacts to alarms",
            task="4.1",
            objectives=["4.1.2", "4.1.3"],
            difficulty="hard",
            angoff=0.55,
            references=["https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling.html"],
            choices=[
                ChoiceDraft("Add an auto scaling policy", "It follows *load*.", True),
                ChoiceDraft("Attach a larger EBS volume", "Disk is not the bottleneck."),
                ChoiceDraft("Turn on data capture", "Capture records traffic.\n\nIt adds no capacity."),
            ],
        ),
    )
    multiple = Item(
        ref="rt-multi",
        case_ref="rt-case",
        case_order=2,
        draft=QuestionDraft(
            type="multiple",
            stem="Which two reduce training cost? (Choose two.)",
            explanation="Spot and right-sizing cut cost.",
            choices=[
                ChoiceDraft("Managed spot training", "Spot is cheaper.", True),
                ChoiceDraft("Right-size with Inference Recommender & benchmarks", "Smaller < bigger.", True),
                ChoiceDraft("Enable network isolation", "Security, not cost."),
            ],
        ),
    )
    ordering = Item(
        ref="rt-order",
        draft=QuestionDraft(
            type="ordering",
            stem="Order the steps of a blue/green deployment.",
            explanation="Shift traffic only after the new fleet is healthy.",
            steps=[
                StepDraft("Create the green fleet", "It must exist first."),
                StepDraft("Shift a canary share of traffic", "A small share limits risk."),
                StepDraft("Shift the rest and retire blue", ""),
            ],
        ),
    )
    matching = Item(
        ref="",
        draft=QuestionDraft(
            type="matching",
            stem="Match each job to a SageMaker AI feature.",
            explanation="Each feature has one job.",
            difficulty="easy",
            pairs=[
                PairDraft("Detect bias", "SageMaker Clarify", "Clarify measures bias."),
                PairDraft("Explain predictions", "SageMaker Clarify", "Clarify explains too."),
                PairDraft("Watch drift", "SageMaker Model Monitor", ""),
                PairDraft(None, "SageMaker Ground Truth", "Ground Truth labels data."),
            ],
        ),
    )
    case = Case(
        ref="rt-case", title="Scaling & cost at a retailer", scenario="A retailer runs **SageMaker AI**.\n\nIt grows."
    )
    return [single, multiple, ordering, matching], [case]


def test_export_writes_a_qti22_content_package() -> None:
    # given
    items, cases = hand_made()

    # when
    result = qti.export(items, cases)

    # then
    assert (result.filename, result.content_type, result.losses) == ("questions-qti22.zip", "application/zip", [])
    archive = zipfile.ZipFile(io.BytesIO(result.data))
    assert archive.namelist() == [
        "imsmanifest.xml",
        "cases/rt-case.html",
        "items/rt-single.xml",
        "items/rt-multi.xml",
        "items/rt-order.xml",
        "items/item-4.xml",
    ]
    manifest = fromstring(archive.read("imsmanifest.xml"), forbid_dtd=True)
    assert manifest.tag == f"{CP}manifest"
    resources = manifest.findall(f"{CP}resources/{CP}resource")
    assert [(r.get("type"), r.get("href")) for r in resources] == [
        ("webcontent", "cases/rt-case.html"),
        ("imsqti_item_xmlv2p2", "items/rt-single.xml"),
        ("imsqti_item_xmlv2p2", "items/rt-multi.xml"),
        ("imsqti_item_xmlv2p2", "items/rt-order.xml"),
        ("imsqti_item_xmlv2p2", "items/item-4.xml"),
    ]
    assert [r.find(f"{CP}file").get("href") for r in resources] == [r.get("href") for r in resources]
    assert resources[1].find(f"{CP}dependency").get("identifierref") == resources[0].get("identifier")
    meta = resources[1].find(f"{CP}metadata/{MLA}meta")
    assert [(child.tag.removeprefix(MLA), child.text) for child in meta] == [
        ("ref", "rt-single"),
        ("version", "3"),
        ("task", "4.1"),
        ("objective", "4.1.2"),
        ("objective", "4.1.3"),
        ("difficulty", "hard"),
        ("angoff", "0.55"),
        ("reference", "https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-auto-scaling.html"),
        ("case", "rt-case"),
        ("case_order", "1"),
    ]
    case = resources[0].find(f"{CP}metadata/{MLA}caseStudy")
    assert [(c.tag.removeprefix(MLA), c.text) for c in case] == [
        ("ref", "rt-case"),
        ("title", "Scaling & cost at a retailer"),
    ]


def test_exported_items_are_qti22_with_interactions_keys_and_feedback() -> None:
    # given
    items, cases = hand_made()

    # when
    archive = zipfile.ZipFile(io.BytesIO(qti.export(items, cases).data))
    single, multiple, ordering, matching = (
        fromstring(archive.read(f"items/{name}.xml"), forbid_dtd=True)
        for name in ("rt-single", "rt-multi", "rt-order", "item-4")
    )

    # then
    assert single.tag == f"{QTI}assessmentItem"
    assert single.get(XSI_LOCATION).startswith("http://www.imsglobal.org/xsd/imsqti_v2p2 ")
    choice = single.find(f"{QTI}itemBody/{QTI}choiceInteraction")
    assert (choice.get("maxChoices"), choice.get("shuffle")) == ("1", "true")
    assert multiple.find(f"{QTI}itemBody/{QTI}choiceInteraction").get("maxChoices") == "0"
    assert [v.text for v in single.findall(f"{QTI}responseDeclaration/{QTI}correctResponse/{QTI}value")] == ["A"]
    feedback = choice.find(f"{QTI}simpleChoice/{QTI}feedbackInline")
    assert feedback.attrib == {"outcomeIdentifier": "FEEDBACK", "identifier": "A", "showHide": "show"}
    block = choice.findall(f"{QTI}simpleChoice")[2].find(f"{QTI}feedbackBlock")
    assert [p.text for p in block] == ["Capture records traffic.", "It adds no capacity."]
    assert single.find(f"{QTI}responseProcessing").get("template") == qti.MATCH_CORRECT
    assert single.find(f"{QTI}modalFeedback").get("identifier") == "EXPLANATION"
    assert {o.get("identifier") for o in single.findall(f"{QTI}outcomeDeclaration")} >= {"SCORE", "FEEDBACK"}
    order = ordering.find(f"{QTI}responseDeclaration")
    assert order.get("cardinality") == "ordered"
    assert ordering.find(f"{QTI}itemBody/{QTI}orderInteraction") is not None
    match = matching.find(f"{QTI}itemBody/{QTI}matchInteraction")
    assert match.get("maxAssociations") == "3"
    prompts, responses = match.findall(f"{QTI}simpleMatchSet")
    assert [c.get("matchMax") for c in prompts] == ["1", "1", "1"]
    clarify = next(c for c in responses if (c.text or "").startswith("SageMaker Clarify"))
    assert clarify.get("matchMax") == "2"
    assert matching.find(f"{QTI}responseDeclaration").get("baseType") == "directedPair"


def test_round_trip_of_hand_made_items_is_exact() -> None:
    # given
    items, cases = hand_made()

    # when
    result = qti.parse(qti.export(items, cases).data, name="questions-qti22.zip")

    # then
    assert (result.errors, result.warnings, result.skipped) == ([], [], [])
    assert [item.draft for item in result.items] == [item.draft for item in items]
    assert [(i.ref, i.version, i.case_ref, i.case_order) for i in result.items] == [
        (i.ref, i.version, i.case_ref, i.case_order) for i in items
    ]
    assert [(c.ref, c.title, c.scenario) for c in result.cases] == [(c.ref, c.title, c.scenario) for c in cases]


def test_export_lists_what_qti_cannot_carry() -> None:
    # given a matching item with an unused response before a pair, an item family and an unknown type
    moved = Item(
        ref="moved",
        family="fam-1",
        draft=QuestionDraft(
            type="matching",
            stem="Match.",
            pairs=[PairDraft(None, "Unused"), PairDraft("P", "R")],
        ),
    )
    odd = Item(ref="odd", draft=QuestionDraft(type="essay", stem="Discuss."))

    # when
    result = qti.export([moved, odd], [])

    # then
    assert messages(result.losses) == [
        "item moved: responses that match nothing are written after the matched pairs, so their position changes.",
        "item moved: the item family (which versions belong together) has no place in QTI or our metadata.",
        "item odd: type 'essay' cannot be written as QTI; the item is left out.",
    ]
    assert [i.draft.type for i in qti.parse(result.data).items] == ["matching"]


def test_malformed_metadata_is_a_warning_and_missing_case_file_an_error() -> None:
    # given an exported package whose metadata version is not a number and whose case file was removed
    items, cases = hand_made()
    archive = zipfile.ZipFile(io.BytesIO(qti.export(items, cases).data))
    files = {name: archive.read(name) for name in archive.namelist() if name != "cases/rt-case.html"}
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace(b"<mla:version>3<", b"<mla:version>three<")

    # when
    result = qti.parse(zip_of(files), name="edited.zip")

    # then
    assert messages(result.errors) == [
        "imsmanifest.xml: manifest/resources/resource[1] (line 2): case study file 'cases/rt-case.html' is listed "
        "in the manifest but is not in the ZIP."
    ]
    assert [w.message for w in result.warnings] == [
        "mla metadata field 'version' has an unexpected value 'three'; ignored."
    ]
    assert result.items[0].version is None
    assert result.items[0].ref == "rt-single"


def test_export_of_hostile_text_is_well_formed_xml() -> None:
    # given markup, entities, control characters and raw HTML that markdown_to_html must sanitise
    stem = 'Compare a < b & c > d "quoted"\x01\x0b <script>alert(1)</script>\n\n<div>loose text</div> \ud7ff end'
    item = Item(
        ref="bad ref/../x",
        draft=QuestionDraft(
            type="single",
            stem=stem,
            choices=[ChoiceDraft("<b>bold</b> & [link](javascript:alert(1))", "", True), ChoiceDraft("ok", "")],
        ),
    )

    # when
    result = qti.parse(qti.export([item], []).data)

    # then
    parsed = only_item(result)
    assert parsed.ref == "bad ref/../x"
    assert "script" not in parsed.draft.stem
    assert normalise(parsed.draft.stem) == normalise(html_to_markdown(markdown_to_html(stem))[0])
    assert parsed.draft.choices[0].text.startswith("**bold** &")


def _bank() -> tuple[list[Item], list[Case]]:
    items: list[Item] = []
    cases: list[Case] = []
    for path in sorted(BANK.glob("*.yaml")):
        bank = parse_bank(path.read_text(encoding="utf-8"))
        assert bank.errors == []
        items += [
            Item(draft=i.draft, ref=i.ref, version=i.version, case_ref=i.case_ref, case_order=i.case_order)
            for i in bank.items
        ]
        cases += [Case(ref=c.ref, title=c.title, scenario=c.scenario) for c in bank.cases]
    return items, cases


def _rendered(text: str) -> str:
    """What a Markdown text becomes after markdown_to_html and back: the fixed point QTI can carry."""
    return normalise(html_to_markdown(markdown_to_html(text))[0])


def test_shipped_bank_exports_and_reimports_with_the_same_items_and_case_studies() -> None:
    # given
    items, cases = _bank()

    # when
    exported = qti.export(items, cases)
    result = qti.parse(exported.data, name=exported.filename)

    # then
    assert exported.losses == []
    assert (result.errors, result.skipped) == ([], [])
    assert Counter(i.draft.type for i in result.items) == Counter(i.draft.type for i in items)
    assert [(c.ref, c.title, normalise(c.scenario)) for c in result.cases] == [
        (c.ref, c.title, normalise(c.scenario)) for c in cases
    ]
    for before, after in zip(items, result.items, strict=True):
        a, b = before.draft, after.draft
        assert (after.ref, after.case_ref, after.case_order, after.version) == (
            before.ref, before.case_ref, before.case_order, before.version,
        )  # fmt: skip
        assert (b.task, b.objectives, b.difficulty, b.angoff, b.references) == (
            a.task, a.objectives, a.difficulty, a.angoff, a.references,
        )  # fmt: skip
        assert normalise(b.stem) == _rendered(a.stem)
        assert normalise(b.explanation) == _rendered(a.explanation)
        assert [(normalise(c.text), normalise(c.rationale), c.correct) for c in b.choices] == [
            (_rendered(c.text), _rendered(c.rationale), c.correct) for c in a.choices
        ]
        assert [(normalise(s.text), normalise(s.rationale)) for s in b.steps] == [
            (_rendered(s.text), _rendered(s.rationale)) for s in a.steps
        ]
        assert [(p.prompt is None, normalise(p.prompt or ""), normalise(p.response)) for p in b.pairs] == [
            (p.prompt is None, _rendered(p.prompt or ""), _rendered(p.response)) for p in a.pairs
        ]


# --------------------------------------------------------------------------------------------------- fuzz


def _safe_parse(data: bytes) -> ParseResult:
    result = qti.parse(data, name="fuzz")
    assert isinstance(result, ParseResult)
    assert not any("internal error" in problem.message for problem in result.errors)
    return result


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes_never_raise(data: bytes) -> None:
    _safe_parse(data)


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_bytes_behind_a_zip_signature_never_raise(data: bytes) -> None:
    _safe_parse(b"PK\x03\x04" + data)


@FUZZ
@given(st.text(max_size=2000))
def test_fuzz_arbitrary_text_never_raises(text: str) -> None:
    _safe_parse(text.encode("utf-8", "surrogatepass"))


TAGS = [
    "responseDeclaration", "correctResponse", "value", "mapping", "mapEntry", "itemBody", "choiceInteraction",
    "simpleChoice", "orderInteraction", "matchInteraction", "simpleMatchSet", "simpleAssociableChoice",
    "associateInteraction", "prompt", "feedbackInline", "feedbackBlock", "modalFeedback", "p", "div", "img",
    "object", "math", "rubricBlock", "templateDeclaration", "textEntryInteraction", "endAttemptInteraction",
]  # fmt: skip
ATTRIBUTES = st.dictionaries(
    st.sampled_from(
        ["identifier", "responseIdentifier", "maxChoices", "mapKey", "mappedValue", "cardinality", "src", "data"]
    ),
    st.sampled_from(["A", "B", "RESPONSE", "A B", "B A", "0", "1", "-1", "x", "multiple", "ordered", ""]),
    max_size=3,
)
TEXT = st.text(alphabet="AB <>&xyz;\"'\n", max_size=8).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
)


def _element(tag: str, attributes: dict[str, str], text: str, children: list[str]) -> str:
    attrs = "".join(f' {k}="{v}"' for k, v in attributes.items())
    return f"<{tag}{attrs}>{text}{''.join(children)}</{tag}>"


ELEMENTS = st.recursive(
    st.builds(_element, st.sampled_from(TAGS), ATTRIBUTES, TEXT, st.just([])),
    lambda inner: st.builds(_element, st.sampled_from(TAGS), ATTRIBUTES, TEXT, st.lists(inner, max_size=4)),
    max_leaves=25,
)


CONTENT = st.recursive(
    st.builds(_element, st.sampled_from(["p", "img", "object", "math", "b"]), ATTRIBUTES, TEXT, st.just([])),
    lambda inner: st.builds(
        _element, st.sampled_from(["p", "div", "feedbackBlock"]), ATTRIBUTES, TEXT, st.lists(inner, max_size=3)
    ),
    max_leaves=6,
)
ID_SETS = st.sampled_from([["A", "B", "C"], ["C", "A"], ["B", "A", "C"], ["A", "A"], ["A", ""], []])
TARGET_SETS = st.sampled_from([["R", "S"], ["S", "R", "T"], ["R"], []])
KEYS = st.sampled_from(["A", "B", "C", "A", "B", "C", "x", ""])
PAIR_KEYS = st.sampled_from(["A R", "B S", "C R", "C T", "A B", "B A", "A C", "C B", "B B", "x"])


@st.composite
def choice_elements(draw: st.DrawFn, tag: str, identifiers: list[str]) -> str:
    """Choices with the given identifiers, text, maybe feedback and maybe other markup."""
    out = []
    for identifier in identifiers:
        feedback = draw(st.sampled_from(["", f'<feedbackInline identifier="{identifier}">why</feedbackInline>']))
        extra = "".join(draw(st.lists(CONTENT, max_size=1)))
        out.append(f'<{tag} identifier="{identifier}" matchMax="1">{draw(TEXT)}{feedback}{extra}</{tag}>')
    return "".join(out)


@st.composite
def plausible_items(draw: st.DrawFn) -> str:
    """An item with a declaration and one interaction, so the fuzzer reaches the interaction readers."""
    kind = draw(st.sampled_from(["choiceInteraction", "orderInteraction", "matchInteraction", "associateInteraction"]))
    if kind == "matchInteraction":
        sets = [
            f"<simpleMatchSet>{draw(choice_elements('simpleAssociableChoice', draw(ids)))}</simpleMatchSet>"
            for ids in (ID_SETS, TARGET_SETS)
        ]
        choices = "".join(sets[: draw(st.sampled_from([2, 2, 2, 1, 0]))])
    else:
        tag = "simpleAssociableChoice" if kind == "associateInteraction" else "simpleChoice"
        choices = draw(choice_elements(tag, draw(ID_SETS)))
    keys = KEYS if kind in {"choiceInteraction", "orderInteraction"} else PAIR_KEYS
    values = "".join(f"<value>{key}</value>" for key in draw(st.lists(keys, min_size=1, max_size=4, unique=True)))
    entries = "".join(
        f'<mapEntry mapKey="{key}" mappedValue="{value}"/>'
        for key, value in draw(st.lists(st.tuples(keys, st.sampled_from(["1", "0.5", "0", "-1", "x"])), max_size=3))
    )
    declaration = (
        f'<responseDeclaration identifier="RESPONSE" cardinality="{draw(st.sampled_from(["single", "multiple"]))}">'
        + draw(st.sampled_from(["", f"<correctResponse>{values}</correctResponse>"] * 3))
        + draw(st.sampled_from(["", f"<mapping>{entries}</mapping>"]))
        + "</responseDeclaration>"
    )
    max_choices = draw(
        st.sampled_from(["", ' maxChoices="0"', ' maxChoices="1"', ' maxChoices="2"', ' maxChoices="x"'])
    )
    before = "".join(draw(st.lists(CONTENT, max_size=2)))
    modal = draw(
        st.sampled_from(["", '<modalFeedback identifier="B">b</modalFeedback>', "<modalFeedback>e</modalFeedback>"])
    )
    return (
        f'{declaration}<itemBody>{before}<{kind} responseIdentifier="RESPONSE"{max_choices}>'
        f"<prompt>{draw(TEXT)}</prompt>{choices}</{kind}></itemBody>{modal}"
    )


@FUZZ
@given(st.one_of(plausible_items(), st.lists(ELEMENTS, max_size=5).map("".join)), st.sampled_from(["v2p1", "v2p2"]))
def test_fuzz_plausible_qti_items_never_raise(content: str, version: str) -> None:
    # given items built from QTI tags, so the fuzzer gets past the XML parser
    data = (
        f'<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_{version}" identifier="f" title="f">'
        f"{content}</assessmentItem>"
    ).encode()

    # then
    _safe_parse(data)
    _safe_parse(zip_of({"imsmanifest.xml": manifest_xml(["i.xml"]), "i.xml": data}))


@FUZZ
@given(st.text(min_size=1, max_size=200), st.lists(st.text(max_size=60), min_size=2, max_size=4))
def test_fuzz_any_text_exports_to_well_formed_qti(stem: str, options: list[str]) -> None:
    # given arbitrary stems and options (control characters, markup, odd Unicode)
    item = Item(
        ref="fuzz",
        draft=QuestionDraft(
            type="single",
            stem=stem,
            choices=[ChoiceDraft(text, text, index == 0) for index, text in enumerate(options)],
        ),
    )

    # when
    result = _safe_parse(qti.export([item], []).data)

    # then
    assert result.errors == []
    assert len(result.items) == 1
    assert len(result.items[0].draft.choices) == len(options)


def test_an_xinclude_is_named_in_the_error_not_reported_as_an_empty_option() -> None:
    result = qti.parse((SAMPLES / "xinclude.xml").read_bytes(), name="xinclude.xml")

    assert result.items == []
    messages = [str(error) for error in result.errors]
    assert len(messages) == 1, messages
    assert "xi:include of 'shared/option-c.xml' is not supported" in messages[0]
    assert "line 12" in messages[0]
    assert "has no text" not in messages[0]
