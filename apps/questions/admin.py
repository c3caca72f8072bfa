"""Authoring in Django admin: one inline per item type, rule checks on the field that is wrong, frozen published
versions with a "new version" button, a candidate-eye preview, bulk status changes and the coverage page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from apps.core.converters import id_param
from apps.exams.presentation import item_display, presentation_identity
from apps.questions.interchange.admin_views import InterchangeAdminMixin
from apps.questions.models import (
    DELIVERABLE_STATUSES,
    CaseStudy,
    Choice,
    MatchPair,
    OrderingStep,
    Question,
    QuestionImport,
    QuestionReport,
    QuestionStatus,
    QuestionType,
)
from apps.questions.placements import bank_carry_over
from apps.questions.rules import (
    ChoiceDraft,
    PairDraft,
    QuestionDraft,
    RuleError,
    StepDraft,
    plain_message,
    publication_errors,
    split_field,
    validate_question,
)
from apps.questions.selectors import (
    bank_coverage,
    question_versions,
    questions_in_blueprint_part,
    questions_with_parts,
)
from apps.questions.services import (
    TRANSITIONS,
    QuestionInvalidError,
    draft_content_hash,
    question_new_version,
    question_reports_close,
    question_set_status,
    question_to_draft,
    questions_map_task,
)
from apps.scoring.selectors import item_discrimination_text
from apps.syllabus.models import Domain, Exam, Objective, Task
from apps.syllabus.selectors import exam_versions


class ObjectiveChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Objective) -> str:
        return f"{obj.task.domain.exam.code} {obj.code} {obj.statement}"  # codes repeat across exam versions


# The submit buttons of the item page that save and then move the item on; their names are in the POST.
STATUS_BUTTONS = {"_review": QuestionStatus.IN_REVIEW, "_publish": QuestionStatus.PUBLISHED}


def requested_status(request: HttpRequest, obj: Question | None) -> str:
    """The status the item is saved for: a status button's, else the one it has (a new item is a draft)."""
    for button, status in STATUS_BUTTONS.items():
        if button in request.POST:
            return status
    return obj.status if obj is not None else QuestionStatus.DRAFT


def problems_html(lead: str, errors: list[RuleError], item_type: str) -> str:
    """A lead sentence and one list entry per broken rule, in words."""
    items = format_html_join("", "<li>{}</li>", ((plain_message(error, item_type=item_type),) for error in errors))
    return format_html("{}<ul>{}</ul>", lead, items)


class QuestionForm(forms.ModelForm):
    references = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Documentation links (http or https), one per line. Publishing needs at least one.",
    )
    # Set per request by QuestionAdmin.get_form: what the author is saving for (draft, review, publication).
    target_status: str = QuestionStatus.DRAFT

    class Meta:
        model = Question
        fields = [
            "ref",
            "type",
            "task",
            "objectives",
            "case_study",
            "case_order",
            "stem",
            "explanation",
            "references",
            "difficulty",
            "angoff",
            "concept",
        ]
        widgets = {
            "stem": forms.Textarea(attrs={"rows": 6}),
            "explanation": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "task" in self.fields:
            self.fields["task"].queryset = Task.objects.select_related("domain__exam").order_by(
                "domain__exam__code", "domain__number", "code"
            )
            self.fields["task"].label_from_instance = lambda task: f"{task.domain.exam.code} {task.code} {task.title}"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        task = cleaned.get("task")
        kind = cleaned.get("type") or self.instance.type
        if task and kind and not task.domain.exam.takes(kind):
            exam = task.domain.exam
            allowed = " and ".join(label.lower() for value, label in QuestionType.choices if exam.takes(value))
            self.add_error("task", f"{exam.code} forms use only {allowed} items; choose a task of another version.")
        strays = [objective for objective in cleaned.get("objectives") or [] if task and objective.task_id != task.id]
        if strays:
            codes = ", ".join(objective.code for objective in strays)
            self.add_error("objectives", f"Objective {codes} is not part of task {task.code}; pick the task's own.")
        case_study = cleaned.get("case_study")
        if case_study and not case_study.pk:
            self.add_error("case_study", "Save the case study first.")
        if self.target_status in DELIVERABLE_STATUSES:
            links = [line.strip() for line in (cleaned.get("references") or "").splitlines() if line.strip()]
            for error in publication_errors(QuestionDraft(type=kind or "", stem="", references=links)):
                self.add_error("references", plain_message(error))
        # The inline formset checks the rules that span the item and its options; it reports stem errors here.
        self.instance._admin_form = self
        return cleaned


class QuestionPartForm(forms.ModelForm):
    """A row of options, steps or pairs. A draft may leave rationales for later; a blank place is the row's."""

    PLACE_HELP = {
        "order": "Its place in the list (1 = first). Left blank, it keeps its row's place.",
        "position": "Its place in the correct order (1 = first). Left blank, it keeps its row's place.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, help_text in self.PLACE_HELP.items():
            if name in self.fields:
                self.fields[name].required = False
                self.fields[name].initial = None  # rows added in the browser take their row's place
                self.fields[name].help_text = help_text
        if "rationale" in self.fields:
            self.fields["rationale"].required = False  # the rules say when it is needed, in words


class QuestionPartFormSet(forms.BaseInlineFormSet):
    """Runs the shared authoring rules over the item and its options before anything is saved.

    Blank rows are left out (however many the page shows), so a rule reports a missing part once, in words,
    rather than as "This field is required." on every empty box.
    """

    part: str = ""
    place: str = "order"
    # Set per request by _PartInline.get_formset.
    item_type: str = ""
    target_status: str = QuestionStatus.DRAFT

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index >= self.initial_form_count():
            kwargs["empty_permitted"] = True
            kwargs["initial"] = {self.place: index + 1}
        return kwargs

    def _live_forms(self) -> list[forms.ModelForm]:
        return [
            form
            for form in self.forms
            if form.has_changed() or form.instance.pk
            if not (self.can_delete and self._should_delete_form(form))
            if hasattr(form, "cleaned_data")
        ]

    def _place_rows(self, live: list[forms.ModelForm]) -> list[forms.ModelForm]:
        """Rows in their place order, numbered 1, 2, 3...; a blank place is the row's own, a repeat is refused."""
        for row, form in enumerate(live, start=1):
            if form.cleaned_data.get(self.place) is None:
                form.cleaned_data[self.place] = row
        live = sorted(live, key=lambda form: form.cleaned_data[self.place])
        places = [form.cleaned_data[self.place] for form in live]
        repeated = sorted({place for place in places if places.count(place) > 1})
        if repeated and self.part == "steps":
            raise ValidationError(
                f"Two steps have position {repeated[0]}; give each step its own place in the correct order."
            )
        for number, form in enumerate(live, start=1):
            form.cleaned_data[self.place] = number
            setattr(form.instance, self.place, number)
        return live

    def is_valid(self) -> bool:
        # A rule broken on the item's own fields is shown there (once); it must still stop the save.
        parent = getattr(self.instance, "_admin_form", None)
        return super().is_valid() and not (parent is not None and parent.errors)

    def clean(self) -> None:
        super().clean()
        self.gaps: list[RuleError] = []
        if any(self.errors):
            return
        live = self._place_rows(self._live_forms())
        question = self.instance
        parent = getattr(question, "_admin_form", None)
        kind = self.item_type or question.type
        draft = QuestionDraft(
            type=kind,
            stem=question.stem or "",
            explanation=question.explanation or "",
            difficulty=question.difficulty,
            angoff=question.angoff,
        )
        data = [form.cleaned_data for form in live]
        if self.part == "options":
            draft.choices = [
                ChoiceDraft(d.get("text", ""), d.get("rationale", ""), d.get("is_correct", False)) for d in data
            ]
        elif self.part == "steps":
            draft.steps = [StepDraft(d.get("text", ""), d.get("rationale", "")) for d in data]
        else:
            draft.pairs = [
                PairDraft(d.get("prompt") or None, d.get("response", ""), d.get("rationale", "")) for d in data
            ]
        problems = []
        for error in validate_question(draft):
            name, index, field_name = split_field(error.field)
            if self.target_status == QuestionStatus.DRAFT and error.completeness and field_name == "rationale":
                self.gaps.append(error)  # a draft may be saved without them; review and publication may not
                continue
            message = plain_message(error, item_type=kind)
            if index is not None and name == self.part and index <= len(live):
                form = live[index - 1]
                form.add_error(field_name if field_name in form.fields else None, message)
            elif name == self.part:
                problems.append(message)
            elif parent is not None and name in parent.fields:
                if name not in parent.errors:  # "This field is required." already says it
                    parent.add_error(name, message)
            elif parent is not None:
                problems.append(message)
            # Without the item's own form (it has errors of its own) its fields' rules wait for the next save.
        if problems:
            raise ValidationError(problems)


class ChoiceFormSet(QuestionPartFormSet):
    part = "options"


class StepFormSet(QuestionPartFormSet):
    part = "steps"
    place = "position"


class PairFormSet(QuestionPartFormSet):
    part = "pairs"


class _PartInline(admin.StackedInline):
    form = QuestionPartForm
    extra = 0
    min_num = 3
    formfield_overrides = {
        # Short boxes: options are one or two sentences.
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 80})},
    }

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # The factory makes a new class per request, so these belong to this request only.
        formset.item_type = obj.type if obj is not None else (request.GET.get("type") or "")
        formset.target_status = requested_status(request, obj)
        return formset


class ChoiceInline(_PartInline):
    model = Choice
    formset = ChoiceFormSet
    fields = ["order", "text", "is_correct", "rationale"]
    verbose_name = "option"
    verbose_name_plural = "options"
    extra = 1


class OrderingStepInline(_PartInline):
    model = OrderingStep
    formset = StepFormSet
    fields = ["position", "text", "rationale"]
    verbose_name = "step"
    verbose_name_plural = "steps, each at its position in the correct order"


class MatchPairInline(_PartInline):
    model = MatchPair
    formset = PairFormSet
    fields = ["order", "prompt", "response", "rationale"]
    verbose_name = "prompt and its correct response"
    verbose_name_plural = "prompts and their correct responses"


INLINES_BY_TYPE = {
    QuestionType.SINGLE: [ChoiceInline],
    QuestionType.MULTIPLE: [ChoiceInline],
    QuestionType.ORDERING: [OrderingStepInline],
    QuestionType.MATCHING: [MatchPairInline],
}


class StatusFlowMixin:
    """Bulk status changes with a confirmation page listing what will change."""

    status_actions = {
        "send_to_review": (QuestionStatus.IN_REVIEW, "Send to review"),
        "publish": (QuestionStatus.PUBLISHED, "Publish"),
        "mark_pretest": (QuestionStatus.PRETEST, "Publish as pretest (unscored)"),
        "retire": (QuestionStatus.RETIRED, "Retire"),
    }

    def _status_action(self, request: HttpRequest, queryset: QuerySet[Question], action: str):
        status, label = self.status_actions[action]
        if not request.user.has_perm("questions.publish_question"):
            raise PermissionDenied
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "admin/questions/question/confirm_status.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{label}: please confirm",
                    "questions": queryset.select_related("task"),
                    "action": action,
                    "label": label,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = 0
        for question in queryset:
            try:
                with transaction.atomic():
                    question_set_status(question=question, status=status)
                done += 1
            except QuestionInvalidError as exc:
                # The message starts with the action, not the ref: the admin capitalises a message's first letter.
                lead = f"{label} refused for {question}:"
                self.message_user(request, problems_html(lead, exc.errors, question.type), messages.ERROR)
        if done:
            self.message_user(request, f"{label}: {done} item(s) done.", messages.SUCCESS)
        return None

    @admin.action(description="Send selected items to review", permissions=["publish"])
    def send_to_review(self, request, queryset):
        return self._status_action(request, queryset, "send_to_review")

    @admin.action(description="Publish selected items", permissions=["publish"])
    def publish(self, request, queryset):
        return self._status_action(request, queryset, "publish")

    @admin.action(description="Publish selected items as pretest (unscored)", permissions=["publish"])
    def mark_pretest(self, request, queryset):
        return self._status_action(request, queryset, "mark_pretest")

    @admin.action(description="Retire selected items", permissions=["publish"])
    def retire(self, request, queryset):
        return self._status_action(request, queryset, "retire")

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("questions.publish_question")


class DomainFilter(admin.SimpleListFilter):
    title = "domain"
    parameter_name = "domain"

    def lookups(self, request, model_admin):
        return [(str(d.pk), f"{d.exam.code} {d}") for d in Domain.objects.select_related("exam")]

    def queryset(self, request, queryset):
        value = self.value()
        if (domain_id := id_param(value)) is not None:
            return queryset.filter(task__domain_id=domain_id)
        return queryset


class _BlueprintPartFilter(admin.SimpleListFilter):
    """The items the coverage page counts under a task (or domain) of an exam version: written for it, or carried
    over and placed under it. The coverage page's links set it; the sidebar shows it only while it is on, so it
    can be cleared there."""

    part_name: str = ""

    def _part(self) -> Task | Domain | None:
        raise NotImplementedError

    def _label(self, part) -> str:
        raise NotImplementedError

    def _filter(self, queryset: QuerySet[Question], part) -> QuerySet[Question]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        # Django applies a filter only while it has choices: an unknown id stays on, and lists nothing.
        if self.value() is None:
            return []
        part = self._part()
        return [(self.value(), self._label(part) if part else f"no such {self.part_name}")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        part = self._part()
        return self._filter(queryset, part) if part else queryset.none()


class BlueprintTaskFilter(_BlueprintPartFilter):
    title = "task in an exam version (own or carried over)"
    parameter_name = "blueprint_task"
    part_name = "task"

    def _part(self) -> Task | None:
        pk = id_param(self.value())
        return Task.objects.select_related("domain__exam").filter(pk=pk).first() if pk is not None else None

    def _label(self, part: Task) -> str:
        return f"{part.domain.exam.code} {part.code} {part.title}"

    def _filter(self, queryset: QuerySet[Question], part: Task) -> QuerySet[Question]:
        return questions_in_blueprint_part(queryset, exam=part.domain.exam, task_id=part.pk)


class BlueprintDomainFilter(_BlueprintPartFilter):
    title = "domain in an exam version (own or carried over)"
    parameter_name = "blueprint_domain"
    part_name = "domain"

    def _part(self) -> Domain | None:
        pk = id_param(self.value())
        return Domain.objects.select_related("exam").filter(pk=pk).first() if pk is not None else None

    def _label(self, part: Domain) -> str:
        return f"{part.exam.code} domain {part.number}: {part.title}"

    def _filter(self, queryset: QuerySet[Question], part: Domain) -> QuerySet[Question]:
        return questions_in_blueprint_part(queryset, exam=part.exam, domain_id=part.pk)


class ImportFilter(admin.SimpleListFilter):
    """The versions one of the instructor's own imports wrote or found already there (its report records them);
    "See the drafts" on the import's page links here."""

    title = "import"
    parameter_name = "import"

    def _job(self, request: HttpRequest) -> QuestionImport | None:
        try:
            return QuestionImport.objects.defer("data").filter(pk=self.value(), uploaded_by=request.user).first()
        except ValidationError:  # not a UUID
            return None

    def lookups(self, request, model_admin):
        if self.value() is None:
            return []
        job = self._job(request)
        return [(self.value(), f"{job.filename} ({job.created_at:%Y-%m-%d %H:%M})" if job else "no such import")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        job = self._job(request)
        ids = [item.get("question_id") for item in (job.report.get("items", []) if job else [])]
        return queryset.filter(pk__in=[pk for pk in ids if pk])


class CategoryFilter(admin.SimpleListFilter):
    """The category path an imported item had in its source bank (a Moodle or GIFT category), to find and map a
    migrated bank by the tree it came in; hidden while no item has one."""

    title = "source category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = Question.objects.exclude(category="").values_list("category", flat=True).distinct()
        return [(category, category) for category in categories.order_by("category")[:200]]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(category=self.value())


class ItemFlagFilter(admin.SimpleListFilter):
    """Items the statistics flag (from 50 first attempts on): possible miskeys, too easy or too hard, distractors
    that do not work."""

    title = "item statistics"
    parameter_name = "flag"
    LABELS = {
        "miskey": "Possible miskey (negative discrimination)",
        "easy": "Too easy (facility above 0.95)",
        "hard": "Too hard (facility below 0.20)",
        "distractor": "Distractor not working (rarely chosen, or chosen more by stronger candidates)",
        "any": "Any flag",
    }
    FIELDS = {
        "miskey": "statistics__flag_miskey",
        "easy": "statistics__flag_too_easy",
        "hard": "statistics__flag_too_hard",
        "distractor": "statistics__flag_weak_distractor",
    }

    def lookups(self, request, model_admin):
        return list(self.LABELS.items())

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            any_flag = Q()
            for field in self.FIELDS.values():
                any_flag |= Q(**{field: True})
            return queryset.filter(any_flag)
        if value in self.FIELDS:
            return queryset.filter(**{self.FIELDS[value]: True})
        return queryset


class ReportFilter(admin.SimpleListFilter):
    """Items candidates have reported and no instructor has closed yet."""

    title = "candidate reports"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("open", "Open reports")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(reports__status=QuestionReport.Status.OPEN).distinct()
        return queryset


class QuestionReportInline(admin.TabularInline):
    """Reports on this version, newest first; they are closed from the reports list."""

    model = QuestionReport
    fk_name = "question"
    fields = ["created_at", "reason", "comment", "status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


STEM_EXCERPT = 100  # characters of the stem in the question list


@admin.register(Question)
class QuestionAdmin(InterchangeAdminMixin, StatusFlowMixin, admin.ModelAdmin):
    form = QuestionForm
    # The label carries the version ("t43-027 v2"), the task column its code and the authored difficulty is a
    # filter: the room goes to the stem excerpt and the statistics, which must fit a 1280 px screen.
    list_display = [
        "label",
        "short_stem",
        "type",
        "status",
        "task_code",
        "facility",
        "discrimination",
        "flags",
        "open_reports",
        "updated",
    ]
    list_filter = [
        DomainFilter,
        "task",
        "type",
        "status",
        "difficulty",
        ItemFlagFilter,
        ReportFilter,
        BlueprintDomainFilter,
        BlueprintTaskFilter,
        ImportFilter,
        CategoryFilter,
    ]
    list_select_related = ["task", "statistics"]
    empty_value_display = "–"
    search_fields = [
        *("ref", "name", "category", "stem"),
        *("choices__text", "steps__text", "pairs__prompt", "pairs__response"),
    ]
    actions = [
        "map_task",
        "send_to_review",
        "publish",
        "mark_pretest",
        "retire",
        "promote_calibrated",
        "carry_over",
        "refresh_statistics",
    ]
    readonly_fields = ["family", "version", "status", "author", "published_at"]
    # Objectives are searched among the chosen task's only (ObjectiveAdmin reads the task the script sends).
    autocomplete_fields = ["objectives"]
    change_form_template = "admin/questions/question/change_form.html"

    class Media:
        # Listed after the admin's jQuery so the media merge keeps our script behind it.
        js = ["admin/js/vendor/jquery/jquery.js", "admin/js/jquery.init.js", "js/admin-objectives.js"]

    change_list_template = "admin/questions/question/change_list.html"
    list_per_page = 50

    @admin.action(description="Map selected drafts to a task", permissions=["change"])
    def map_task(self, request, queryset):
        versions = [version.pk for version in exam_versions()]  # the current version first
        tasks = sorted(
            Task.objects.filter(domain__exam__in=versions).select_related("domain__exam"),
            key=lambda task: (versions.index(task.domain.exam_id), task.domain.number, task.code),
        )
        chosen = next((task for task in tasks if str(task.pk) == request.POST.get("task")), None)
        if chosen is None:
            return TemplateResponse(
                request,
                "admin/questions/question/map_task.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Map items to a task",
                    "questions": queryset.select_related("task"),
                    "tasks": tasks,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        mapped, refused = questions_map_task(questions=queryset, task=chosen)
        if mapped:
            self.message_user(
                request,
                f"{mapped} item(s) mapped to {chosen.domain.exam.code} task {chosen.code}; pick their objectives "
                "before review.",
                messages.SUCCESS,
            )
        for message in refused:
            # Led by words: the admin capitalises a message's first letter, which would change the ref.
            self.message_user(request, f"Not mapped: {message}", messages.ERROR)
        return None

    @admin.display(description="item", ordering="ref")
    def label(self, obj: Question) -> str:
        return str(obj)

    @admin.display(description="task", ordering="task__code")
    def task_code(self, obj: Question) -> str:
        if obj.task is None:
            return "–"
        return format_html('<span title="{}">{}</span>', obj.task.title, obj.task.code)

    @admin.display(description="facility (right of first attempts)", ordering="statistics__facility")
    def facility(self, obj: Question) -> str:
        stats = getattr(obj, "statistics", None)
        if stats is None:
            return "–"
        # The count wraps under the figure as a unit, so the column stays narrow.
        return format_html('{} <span class="count">({} of {})</span>', f"{stats.facility:.2f}",
                           f"{stats.correct:,}", f"{stats.responses:,}")  # fmt: skip

    @admin.display(description="discrim\u00adination (r, −1 to 1)", ordering="statistics__discrimination")
    def discrimination(self, obj: Question) -> str:
        stats = getattr(obj, "statistics", None)
        if stats is None or stats.discrimination is None:
            return "–"
        return item_discrimination_text(stats.discrimination)

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: Question) -> str:
        return f"{obj.updated_at:%Y-%m-%d}"

    @admin.display(description="flags")
    def flags(self, obj: Question) -> str:
        stats = getattr(obj, "statistics", None)
        return ", ".join(stats.flags) if stats else ""

    @admin.action(description="Promote calibrated pretest items to published", permissions=["publish"])
    def promote_calibrated(self, request, queryset):
        from apps.scoring.models import ItemParameter

        calibrated = set(ItemParameter.objects.filter(question__in=queryset).values_list("question_id", flat=True))
        promoted = 0
        for question in queryset.filter(status=QuestionStatus.PRETEST):
            if question.pk not in calibrated:
                self.message_user(request, f"Not calibrated yet (needs 200 responses): {question}.", messages.WARNING)
                continue
            question_set_status(question=question, status=QuestionStatus.PUBLISHED)
            promoted += 1
        self.message_user(request, f"{promoted} pretest item(s) promoted to published.")

    @admin.action(
        description="Carry selected items over to the exam version that replaces theirs", permissions=["change"]
    )
    def carry_over(self, request, queryset):
        """The admin face of ``manage.py carry_over``: place the selected items in the later version (MLA-C01
        items in MLA-C02) under the task and skills that continue theirs, and say which stay behind and why."""
        later = Exam.objects.filter(replaces__domains__tasks__questions__in=queryset).distinct()
        if not later:
            self.message_user(request, "No exam version replaces the selected items' version.", messages.WARNING)
            return
        for target in later:
            report = bank_carry_over(target=target, questions=queryset, with_coverage=False)
            self.message_user(
                request,
                f"{target.code}: {report.placed} placed, {report.updated} updated, {report.unchanged} already there"
                + (f", {report.withdrawn} withdrawn" if report.withdrawn else "")
                + ".",
                messages.SUCCESS,
            )
            for reason, items in report.left.items():
                shown = ", ".join(items[:10]) + (f" and {len(items) - 10} more" if len(items) > 10 else "")
                self.message_user(request, f"{len(items)} stay behind ({reason}): {shown}.", messages.WARNING)

    @admin.action(description="Recompute item statistics and calibration now (runs in the background)")
    def refresh_statistics(self, request, queryset):
        from apps.scoring.tasks import item_statistics_refresh

        item_statistics_refresh.delay()
        self.message_user(request, "Item statistics are being recomputed; reload this list in a minute.")

    @admin.display(description="stem")
    def short_stem(self, obj: Question) -> str:
        """The stem's first words; the whole stem is in the tooltip and on the item's page."""
        if len(obj.stem) <= STEM_EXCERPT:
            return obj.stem
        excerpt = obj.stem[:STEM_EXCERPT].rsplit(" ", 1)[0] + "…"
        return format_html('<span title="{}">{}</span>', obj.stem, excerpt)

    def changelist_view(self, request, extra_context=None):
        # The list needs the whole width for its statistics; the app menu stays one click away on "Home".
        return super().changelist_view(request, {**(extra_context or {}), "is_nav_sidebar_enabled": False})

    def get_search_results(self, request, queryset, search_term):
        queryset, _ = super().get_search_results(request, queryset, search_term)
        return queryset.distinct(), False

    def _type_for(self, request: HttpRequest, obj: Question | None) -> str | None:
        if obj is not None:
            return obj.type
        kind = request.GET.get("type") or request.POST.get("type")
        return kind if kind in QuestionType.values else None

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "objectives":
            kwargs["form_class"] = ObjectiveChoiceField
            kwargs["queryset"] = Objective.objects.select_related("task__domain__exam")
            kwargs["help_text"] = "Choose the task first, then type to search its objectives. Pick one or more."
            field = super().formfield_for_manytomany(db_field, request, **kwargs)
            field.widget.attrs["data-width"] = "100%"  # statements are long; select2 sizes its box from this
            return field
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.target_status = requested_status(request, obj)  # the factory made this class for this request
        if obj is None and "type" in form.base_fields:
            # The type was chosen on the previous page and decides which inline is shown.
            form.base_fields["type"].initial = self._type_for(request, None)
            form.base_fields["type"].disabled = True
        return form

    def get_inlines(self, request, obj):
        parts = INLINES_BY_TYPE.get(self._type_for(request, obj), [])
        return [*parts, QuestionReportInline] if obj is not None else parts

    def get_queryset(self, request):
        open_reports = Count("reports", filter=Q(reports__status=QuestionReport.Status.OPEN), distinct=True)
        return super().get_queryset(request).annotate(open_report_count=open_reports)

    @admin.display(description="open reports", ordering="open_report_count")
    def open_reports(self, obj: Question) -> str:
        count = getattr(obj, "open_report_count", 0)
        if not count:
            return ""
        url = reverse("admin:questions_questionreport_changelist") + f"?question__id__exact={obj.pk}&status=open"
        return format_html('<a href="{}">{}</a>', url, count)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        # Where an imported item came from, shown only when it came from somewhere.
        source = [name for name in ("name", "category") if getattr(obj, name)] + (["source_tags"] if obj.tags else [])
        return [*fields, "type", *source]

    @admin.display(description="tags in the source bank")
    def source_tags(self, obj: Question) -> str:
        return ", ".join(obj.tags or [])

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("type", None)
        kind = self._type_for(request, None)
        if kind:
            initial["type"] = kind
        return initial

    def has_change_permission(self, request, obj=None):
        # Frozen versions are shown read-only; "Create new version" is the way to edit them.
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def add_view(self, request, form_url="", extra_context=None):
        if self._type_for(request, None) is None:
            return TemplateResponse(
                request,
                "admin/questions/question/choose_type.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Add question: choose its type",
                    "types": QuestionType.choices,
                    "opts": self.model._meta,
                    "query": request.GET.urlencode(),
                },
            )
        extra_context = {**(extra_context or {}), "status_buttons": self._status_buttons(request, None)}
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        question = form.instance
        question.content_hash = draft_content_hash(
            question_to_draft(question),
            case_ref=question.case_study.ref if question.case_study else "",
            case_order=question.case_order,
        )
        question.save(update_fields=["content_hash"])
        target = requested_status(request, question)
        if target != question.status:
            # The form already held the item to every rule of the target status; the service checks again.
            try:
                question_set_status(question=question, status=target)
            except QuestionInvalidError as exc:
                lead = f"Saved, but not {QuestionStatus(target).label.lower()}:"
                self.message_user(request, problems_html(lead, exc.errors, question.type), messages.ERROR)
            else:
                question.status = target
                done = {
                    QuestionStatus.IN_REVIEW: "Sent to review.",
                    QuestionStatus.PUBLISHED: "Published. This version is frozen now: create a new version to edit.",
                }[target]
                self.message_user(request, done, messages.SUCCESS)
            return
        gaps = [gap for formset in formsets for gap in getattr(formset, "gaps", [])]
        if gaps:
            lead = "Saved as a draft. Before it can go to review:"
            self.message_user(request, problems_html(lead, gaps, question.type), messages.WARNING)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        moving = request.method == "POST" and STATUS_BUTTONS.keys() & request.POST.keys()
        if moving and not self.has_publish_permission(request):
            raise PermissionDenied
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _stay_on_item(self, request: HttpRequest, obj: Question) -> HttpResponse | None:
        if STATUS_BUTTONS.keys() & request.POST.keys():
            return HttpResponseRedirect(reverse("admin:questions_question_change", args=[obj.pk]))
        return None

    def response_add(self, request, obj, post_url_continue=None):
        return self._stay_on_item(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._stay_on_item(request, obj) or super().response_change(request, obj)

    def _status_buttons(self, request: HttpRequest, obj: Question | None) -> list[tuple[str, str]]:
        """The status buttons for whoever may move items on, where the move is allowed from the item's status."""
        if not self.has_publish_permission(request) or (obj is not None and obj.is_locked):
            return []
        status = obj.status if obj is not None else QuestionStatus.DRAFT
        labels = {QuestionStatus.IN_REVIEW: "Send to review", QuestionStatus.PUBLISHED: "Publish"}
        return [
            (button, labels[target])
            for button, target in STATUS_BUTTONS.items()
            if target in TRANSITIONS.get(status, set())
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        question = self.get_object(request, object_id)
        if question is not None:
            extra_context["versions"] = question_versions(question=question)
            from apps.scoring.selectors import item_statistics_report

            statistic = getattr(question, "statistics", None)
            extra_context["item_statistics"] = statistic and item_statistics_report(
                statistic=statistic, parameter=getattr(question, "irt", None)
            )
            extra_context["can_version"] = self.has_add_permission(request)
            extra_context["status_buttons"] = self._status_buttons(request, question)
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "coverage/",
                self.admin_site.admin_view(self.coverage_view),
                name="questions_question_coverage",
            ),
            path(
                "<id:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="questions_question_preview",
            ),
            path(
                "<id:pk>/new-version/",
                self.admin_site.admin_view(self.new_version_view),
                name="questions_question_new_version",
            ),
        ]
        return custom + urls

    def coverage_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        versions = list(exam_versions())
        code = request.GET.get("exam", "")
        exam = next((version for version in versions if version.code == code), versions[0] if versions else None)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Bank coverage against the {exam.code} blueprint" if exam else "Bank coverage",
            "coverage": bank_coverage(exam=exam) if exam else None,
            "versions": versions,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/questions/question/coverage.html", context)

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        question = get_object_or_404(questions_with_parts(), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of {question}",
            "question": question,
            "shown": item_display(question, presentation_identity(question), None, []),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "questions/preview.html", context)

    def new_version_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST":
            return redirect(reverse("admin:questions_question_change", args=[pk]))
        if not self.has_add_permission(request):
            raise PermissionDenied
        question = get_object_or_404(Question, pk=pk)
        draft = question_new_version(question=question, author=request.user)
        self.message_user(
            request,
            f"Version {draft.version} of {draft.ref or 'this item'} is an editable draft. {question} stays as it "
            "was until you publish the new version.",
        )
        return HttpResponseRedirect(reverse("admin:questions_question_change", args=[draft.pk]))


class CaseStudyQuestionInline(admin.TabularInline):
    model = Question
    fields = ["link", "type", "status", "case_order", "version"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="item")
    def link(self, obj: Question) -> str:
        url = reverse("admin:questions_question_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>: {}', url, obj, obj.stem[:80])

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin):
    list_display = ["title", "ref", "item_count"]
    search_fields = ["title", "scenario", "ref"]
    inlines = [CaseStudyQuestionInline]
    readonly_fields = ["author"]
    change_form_template = "admin/questions/casestudy/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(items=Count("questions"))

    @admin.display(description="items", ordering="items")
    def item_count(self, obj: CaseStudy) -> int:
        return obj.items

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.questions.exists():
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)


class ReportCloseForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=QuestionReport.COMMENT_MAX,
        label="Note: what was done",
        help_text="Required. For example: “Key corrected to B in v3” or “The stem is right: Firehose cannot "
        "order records”. Kept with each report.",
        error_messages={"required": "Write what was done about the report(s) before closing them."},
    )


@admin.register(QuestionReport)
class QuestionReportAdmin(admin.ModelAdmin):
    """Candidates' reports on items. Fix the item (a new version), then close the report as fixed or dismissed
    with a note; the candidate's own text is never edited."""

    list_display = ["created_at", "question_link", "reason", "short_comment", "status", "short_note", "reporter"]
    list_filter = ["status", "reason"]
    list_select_related = ["question", "reporter"]
    search_fields = ["question__ref", "question__stem", "comment", "note"]
    readonly_fields = ["question", "reporter", "reason", "comment", "created_at", "status", "closed_by", "closed_at"]
    fields = [*readonly_fields, "note"]
    actions = ["close_fixed", "close_dismissed"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # Seven columns with the candidate's comment and the note: the list takes the width the app menu had.
        return super().changelist_view(request, {**(extra_context or {}), "is_nav_sidebar_enabled": False})

    @admin.display(description="question", ordering="question__ref")
    def question_link(self, obj: QuestionReport) -> str:
        url = reverse("admin:questions_question_change", args=[obj.question_id])
        return format_html('<a href="{}">{}</a>', url, obj.question)

    @admin.display(description="comment")
    def short_comment(self, obj: QuestionReport) -> str:
        return obj.comment[:80] + ("…" if len(obj.comment) > 80 else "")

    @admin.display(description="note")
    def short_note(self, obj: QuestionReport) -> str:
        return obj.note[:80] + ("…" if len(obj.note) > 80 else "")

    def _close(self, request: HttpRequest, queryset: QuerySet[QuestionReport], action: str, status: str):
        """First a page that asks for the note; its form posts the action again with the note."""
        label = f"Close as {QuestionReport.Status(status).label.lower()}"
        form = ReportCloseForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_valid():
            closed = question_reports_close(
                reports=queryset, by=request.user, status=status, note=form.cleaned_data["note"]
            )
            skipped = queryset.count() - closed
            self.message_user(
                request,
                f"{closed} report(s) closed as {QuestionReport.Status(status).label.lower()}, with your note."
                + (f" {skipped} already closed left as they were." if skipped else ""),
                messages.SUCCESS,
            )
            return None
        return TemplateResponse(
            request,
            "admin/questions/questionreport/close.html",
            {
                **self.admin_site.each_context(request),
                "title": f"{label}: what was done?",
                "reports": queryset.select_related("question"),
                "form": form,
                "action": action,
                "label": label,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Close as fixed (asks for a note)", permissions=["change"])
    def close_fixed(self, request, queryset):
        return self._close(request, queryset, "close_fixed", QuestionReport.Status.RESOLVED)

    @admin.action(description="Close as dismissed (asks for a note)", permissions=["change"])
    def close_dismissed(self, request, queryset):
        return self._close(request, queryset, "close_dismissed", QuestionReport.Status.DISMISSED)
