import datetime

from django.conf import settings
from django.db import models

from apps.exams.models import Attempt


class Classification(models.TextChoices):
    MEETS = "meets", "Meets competencies"
    NEEDS = "needs", "Needs improvement"
    UNSURE = "unsure", "Not enough evidence yet"


class AttemptResult(models.Model):
    """The score report of one attempt; exactly one per attempt, enforced by the one-to-one key."""

    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="result")
    raw_correct = models.PositiveSmallIntegerField()
    raw_scored = models.PositiveSmallIntegerField(help_text="Scored items on the form (pretest items excluded).")
    theta = models.FloatField()
    theta_se = models.FloatField()
    cut_theta = models.FloatField()
    scaled_score = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    pass_probability = models.FloatField()
    by_domain = models.JSONField(default=list)
    by_task = models.JSONField(default=list)
    time_used_seconds = models.PositiveIntegerField()
    method = models.CharField(max_length=40, default="rasch-eap", help_text="Model and estimator that scored it.")
    computed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.attempt}: {self.scaled_score}"


class ItemParameter(models.Model):
    """A question version's calibrated 3PL parameters, on the platform's one scale."""

    question = models.OneToOneField("questions.Question", on_delete=models.CASCADE, related_name="irt")
    b = models.FloatField(help_text="Difficulty in logits.")
    b_se = models.FloatField(help_text="Standard error of b; scoring flattens the slope by it.")
    a = models.FloatField(default=1.0, help_text="Slope (discrimination).")
    c = models.FloatField(default=0.0, help_text="Lower asymptote: the chance that a guess is right.")
    responses = models.PositiveIntegerField()
    calibrated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.question}: b={self.b:.2f}±{self.b_se:.2f}"


class CalibrationRun(models.Model):
    """One calibration of a version's bank, with the difficulty prior it learned (for items not calibrated)."""

    exam = models.ForeignKey("syllabus.Exam", on_delete=models.CASCADE, related_name="calibrations")
    ran_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=40, default="3pl-mml")
    persons = models.PositiveIntegerField(help_text="Scored mock attempts used.")
    responses = models.PositiveIntegerField()
    items_fitted = models.PositiveIntegerField(help_text="Items estimated (enough responses, not all right or wrong).")
    items_stored = models.PositiveIntegerField(help_text="Items whose parameters were stored.")
    iterations = models.PositiveIntegerField()
    prior_beta = models.JSONField(help_text="Difficulty prior: coefficients on easy, medium, hard, Angoff logit.")
    prior_tau = models.FloatField(help_text="Difficulty prior: residual SD in logits.")

    class Meta:
        get_latest_by = "ran_at"

    def __str__(self) -> str:
        return f"{self.exam} calibration {self.ran_at:%Y-%m-%d %H:%M}"


class ItemStatistic(models.Model):
    """Classical item analysis (as Moodle's quiz statistics report computes it) on first attempts: each candidate's
    first scored mock exam that delivered the item, pooled over the exam versions that deliver it. Every figure
    here shares one denominator, ``responses``."""

    question = models.OneToOneField("questions.Question", on_delete=models.CASCADE, related_name="statistics")
    responses = models.PositiveIntegerField(help_text="First attempts that delivered the item: the denominator.")
    correct = models.PositiveIntegerField(default=0, help_text="Of those, how many got it right.")
    unanswered = models.PositiveIntegerField(default=0, help_text="Of those, how many left it unanswered.")
    versions = models.JSONField(default=list, help_text="Codes of the exam versions whose first attempts count.")
    facility = models.FloatField(help_text="Share of first attempts that got it right.")
    discrimination = models.FloatField(null=True, help_text="100 × corrected item-rest correlation.")
    efficiency = models.FloatField(null=True, help_text="Discriminative efficiency, percent.")
    options = models.JSONField(
        default=list, help_text="Per option: text, key or not, how many chose it, share, point-biserial, problem."
    )
    flag_miskey = models.BooleanField(
        default=False, help_text="Negative discrimination from at least 50 first attempts: possible miskey."
    )
    flag_too_easy = models.BooleanField(default=False)
    flag_too_hard = models.BooleanField(default=False)
    flag_weak_distractor = models.BooleanField(
        default=False,
        help_text="A wrong option that does not work: almost nobody chooses it (95% upper bound under 5%), or "
        "stronger candidates choose it more (positive point-biserial beyond chance).",
    )
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.question}: F={self.facility:.2f}"

    @property
    def flags(self) -> list[str]:
        names = {
            "flag_miskey": "possible miskey",
            "flag_too_easy": "too easy",
            "flag_too_hard": "too hard",
            "flag_weak_distractor": "distractor not working",
        }
        return [label for field, label in names.items() if getattr(self, field)]


class ExamReliability(models.Model):
    """Reliability of an exam's mocks: KR-20 (Cronbach's α for 0/1 items) and the standard error of measurement."""

    exam = models.OneToOneField("syllabus.Exam", on_delete=models.CASCADE, related_name="test_statistics")
    attempts = models.PositiveIntegerField()
    mean = models.FloatField()
    sd = models.FloatField()
    alpha = models.FloatField(null=True)
    sem = models.FloatField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.exam}: α={self.alpha}"


class ReviewCard(models.Model):
    """Spaced-repetition state (FSRS) of one item family for one candidate: missed items come back when due."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    family = models.UUIDField()
    card = models.JSONField(help_text="fsrs.Card.to_dict()")
    due = models.DateTimeField()
    lapses = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["candidate", "family"], name="review_card_unique")]
        indexes = [models.Index(fields=["candidate", "due"], name="review_card_due")]

    def __str__(self) -> str:
        return f"{self.candidate} {self.family} due {self.due:%Y-%m-%d}"


class StudyRule(models.Model):
    """A one-line rule the candidate wrote from their misses in a task (the syllabus's study tip)."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_rules")
    task = models.ForeignKey("syllabus.Task", on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=240)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["task__code", "created_at"]

    def __str__(self) -> str:
        return self.text


# The first MLA-C01 results (its beta) date from 2024; nothing earlier can be a result of either version.
OUTCOME_EARLIEST = datetime.date(2024, 1, 1)


class ExamOutcome(models.Model):
    """A candidate's real exam result, as they reported it, with a snapshot of the readiness estimate the
    platform had for them before that day (all prediction fields empty when there was no evidence yet)."""

    candidate = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_outcomes")
    exam = models.ForeignKey("syllabus.Exam", on_delete=models.CASCADE, related_name="outcomes")
    sat_on = models.DateField(help_text="The day the candidate sat the real exam.")
    passed = models.BooleanField()
    scaled_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The scaled score on AWS's score report, when the candidate gave it."
    )
    predicted_theta = models.FloatField(null=True, blank=True)
    predicted_theta_se = models.FloatField(null=True, blank=True)
    predicted_pass_probability = models.FloatField(null=True, blank=True)
    predicted_responses = models.PositiveIntegerField(default=0, help_text="Scored items the prediction was based on.")
    predicted_cut_theta = models.FloatField(null=True, blank=True, help_text="The cut θ the prediction used.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-sat_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["candidate", "exam", "sat_on"], name="exam_outcome_one_per_day"),
            models.CheckConstraint(
                condition=models.Q(scaled_score__isnull=True) | models.Q(scaled_score__gte=100, scaled_score__lte=1000),
                name="exam_outcome_score_on_scale",
            ),
            models.CheckConstraint(condition=models.Q(sat_on__gte=OUTCOME_EARLIEST), name="exam_outcome_not_too_early"),
            models.CheckConstraint(
                condition=models.Q(predicted_pass_probability__isnull=True)
                | models.Q(predicted_pass_probability__gte=0, predicted_pass_probability__lte=1),
                name="exam_outcome_probability_in_range",
            ),
        ]
        indexes = [models.Index(fields=["exam", "sat_on"], name="exam_outcome_exam")]

    def __str__(self) -> str:
        return f"{self.candidate} {self.exam_id} {self.sat_on:%Y-%m-%d}: {'pass' if self.passed else 'fail'}"

    @property
    def has_prediction(self) -> bool:
        return self.predicted_pass_probability is not None


class StudyState(models.TextChoices):
    ROUND_1 = "round1", "Round 1 open"
    ROUND_2 = "round2", "Round 2 open"
    ADOPTED = "adopted", "Adopted"
    ABANDONED = "abandoned", "Abandoned"


OPEN_STUDY_STATES = (StudyState.ROUND_1, StudyState.ROUND_2)
RATING_MIN = 0.05
RATING_MAX = 0.95


class StandardSettingStudy(models.Model):
    """A modified-Angoff panel for one exam version: raters judge the scored items of one base form in two
    rounds, and the facilitator adopts the cut their final ratings give (apps/scoring/standards.py)."""

    exam = models.ForeignKey("syllabus.Exam", on_delete=models.PROTECT, related_name="standard_studies")
    name = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=StudyState.choices, default=StudyState.ROUND_1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    round_two_opened_at = models.DateTimeField(null=True, blank=True)
    adopted_at = models.DateTimeField(null=True, blank=True)
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it was adopted or abandoned.")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "standard-setting study"
        verbose_name_plural = "standard-setting studies"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="adopted") | models.Q(adopted_at__isnull=False),
                name="study_adopted_has_date",
            ),
        ]
        permissions = [("rate_standardsettingstudy", "Can rate items as a standard-setting panellist")]

    def __str__(self) -> str:
        return self.name

    @property
    def round(self) -> int | None:
        """The round open for rating, or None once the study is closed."""
        return {StudyState.ROUND_1: 1, StudyState.ROUND_2: 2}.get(self.state)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STUDY_STATES


class StudyItem(models.Model):
    """An item of a study's base form, in form order, with its task in the study's exam version."""

    study = models.ForeignKey(StandardSettingStudy, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    question = models.ForeignKey("questions.Question", on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey("syllabus.Task", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["study", "position"]
        constraints = [
            models.UniqueConstraint(fields=["study", "position"], name="study_item_position_unique"),
            models.UniqueConstraint(fields=["study", "question"], name="study_item_question_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.study_id}#{self.position}"


class StudyRating(models.Model):
    """One rater's judgement of one item in one round: the probability that a minimally competent candidate
    answers it correctly."""

    study = models.ForeignKey(StandardSettingStudy, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    question = models.ForeignKey("questions.Question", on_delete=models.PROTECT, related_name="+")
    round = models.PositiveSmallIntegerField()
    value = models.FloatField()
    rated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "rater", "question", "round"], name="study_rating_unique"),
            models.CheckConstraint(condition=models.Q(round__in=[1, 2]), name="study_rating_round_1_or_2"),
            models.CheckConstraint(
                condition=models.Q(value__gte=RATING_MIN, value__lte=RATING_MAX), name="study_rating_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rater_id} on {self.question_id} (round {self.round}): {self.value:.2f}"


class RecordedCut(models.Model):
    """A cut adopted for an exam version, with what it rests on. The panel's mean final rating of each base-form
    item is kept, so the θ cut can be re-solved on current item parameters while the raw cut stays put."""

    exam = models.ForeignKey("syllabus.Exam", on_delete=models.PROTECT, related_name="recorded_cuts")
    study = models.OneToOneField(StandardSettingStudy, on_delete=models.PROTECT, related_name="cut")
    method = models.CharField(max_length=20, default="panel")
    theta = models.FloatField(help_text="θ cut in logits, as solved when adopted.")
    raw_cut = models.FloatField(help_text="Σ of the panel's mean final ratings over the base form.")
    items = models.PositiveSmallIntegerField(help_text="Items on the base form.")
    raters = models.PositiveSmallIntegerField()
    spread_sd = models.FloatField(help_text="SD of the raters' individual θ cuts (logits).")
    spread_se = models.FloatField(help_text="Standard error of the cut: SD / √raters.")
    item_means = models.JSONField(help_text="Question id → the panel's mean final rating.")
    rater_cuts = models.JSONField(default=list, help_text="Per rater: id, name, raw cut and θ cut.")
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-decided_at"]
        indexes = [models.Index(fields=["exam", "-decided_at"], name="recorded_cut_latest")]

    def __str__(self) -> str:
        return f"{self.exam_id}: θ_c={self.theta:.2f} ({self.method})"
