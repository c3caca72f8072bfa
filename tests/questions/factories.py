"""Factories for items of every type. Items are created through the services, so they obey the rules."""

from __future__ import annotations

import factory

from apps.questions.models import Question
from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft
from apps.questions.services import question_create
from apps.syllabus.models import Exam


def _with(draft: QuestionDraft, overrides: dict) -> QuestionDraft:
    for key, value in overrides.items():
        setattr(draft, key, value)
    return draft


def single_draft(**overrides) -> QuestionDraft:
    draft = QuestionDraft(
        type="single",
        stem="A team stores 5 TB of training data. Which storage keeps costs lowest?",
        explanation="S3 is the cheapest durable store. Rule: default to S3.",
        task="1.1",
        objectives=["1.1.5"],
        difficulty="medium",
        angoff=0.6,
        references=["https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html"],
        choices=[
            ChoiceDraft("Amazon S3", "Cheapest durable store.", True),
            ChoiceDraft("Amazon EBS io2", "Block storage, costly at this size.", False),
            ChoiceDraft("Amazon EFS", "File storage, more expensive per GB.", False),
            ChoiceDraft("Amazon FSx for Lustre", "Fast but costly to keep running.", False),
        ],
    )
    return _with(draft, overrides)


def multiple_draft(**overrides) -> QuestionDraft:
    draft = single_draft(
        type="multiple",
        stem="Which two formats are columnar? (Choose two.)",
        choices=[
            ChoiceDraft("Apache Parquet", "Columnar.", True),
            ChoiceDraft("Apache ORC", "Columnar.", True),
            ChoiceDraft("CSV", "Row text.", False),
            ChoiceDraft("JSON Lines", "Row text.", False),
            ChoiceDraft("Apache Avro", "Row-based binary.", False),
        ],
    )
    return _with(draft, overrides)


def ordering_draft(**overrides) -> QuestionDraft:
    draft = single_draft(
        type="ordering",
        stem="Put the steps of a training pipeline in order.",
        choices=[],
        steps=[
            StepDraft("Process the data", "Data comes first."),
            StepDraft("Train the model", "Needs processed data."),
            StepDraft("Evaluate the model", "Needs a trained model."),
            StepDraft("Register the model", "Only after it passes evaluation."),
        ],
    )
    return _with(draft, overrides)


def matching_draft(**overrides) -> QuestionDraft:
    draft = single_draft(
        type="matching",
        stem="Match each need with the SageMaker AI inference option.",
        choices=[],
        pairs=[
            PairDraft("Payloads up to 1 GB, minutes of processing", "Asynchronous inference", "Async fits."),
            PairDraft("Score a whole dataset nightly", "Batch transform", "Offline batch."),
            PairDraft("Millisecond responses, steady traffic", "Real-time endpoint", "Always on."),
            PairDraft(None, "Amazon EC2 Spot Fleet", "Not an inference option."),
        ],
    )
    return _with(draft, overrides)


DRAFTS = {"single": single_draft, "multiple": multiple_draft, "ordering": ordering_draft, "matching": matching_draft}


class QuestionFactory(factory.Factory):
    """``QuestionFactory(exam=exam, type="ordering", status="published", task="2.1")``."""

    class Meta:
        model = Question

    exam: Exam | None = None
    type = "single"
    status = "published"
    task = "1.1"
    ref = factory.Sequence(lambda n: f"f-{n:04d}")
    stem = None

    @classmethod
    def _create(cls, model_class, exam, type, status, task, ref, stem, **kwargs):
        draft = DRAFTS[type](status=status, task=task, objectives=[f"{task}.1"])
        if stem:
            draft.stem = stem
        return question_create(draft=draft, exam=exam, ref=ref, **kwargs)
