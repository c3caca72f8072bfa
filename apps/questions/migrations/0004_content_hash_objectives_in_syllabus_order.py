from django.db import migrations


def rehash(apps, schema_editor):
    """Content hashes now list objectives in syllabus order; recompute them so unchanged items stay unchanged."""
    from apps.questions.rules import ChoiceDraft, PairDraft, QuestionDraft, StepDraft
    from apps.questions.services import draft_content_hash

    Question = apps.get_model("questions", "Question")
    for question in Question.objects.select_related("task", "case_study").prefetch_related(
        "objectives__task", "choices", "steps", "pairs"
    ):
        draft = QuestionDraft(
            type=question.type,
            stem=question.stem,
            explanation=question.explanation,
            task=question.task.code if question.task_id else "",
            objectives=[f"{o.task.code}.{o.order}" for o in question.objectives.all()],
            difficulty=question.difficulty,
            angoff=question.angoff,
            references=[line.strip() for line in question.references.splitlines() if line.strip()],
            status=question.status,
            choices=[ChoiceDraft(c.text, c.rationale, c.is_correct) for c in sorted(question.choices.all(), key=lambda c: (c.order, c.id))],
            steps=[StepDraft(s.text, s.rationale) for s in sorted(question.steps.all(), key=lambda s: (s.position, s.id))],
            pairs=[PairDraft(p.prompt or None, p.response, p.rationale) for p in sorted(question.pairs.all(), key=lambda p: (p.order, p.id))],
        )
        case = question.case_study
        digest = draft_content_hash(draft, case_ref=case.ref if case else "", case_order=question.case_order)
        if digest != question.content_hash:
            Question.objects.filter(pk=question.pk).update(content_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("questions", "0003_question_import")]
    operations = [migrations.RunPython(rehash, migrations.RunPython.noop)]
