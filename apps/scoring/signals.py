"""Events other apps may react to. Receivers only enqueue work; the work itself lives in services."""

from typing import NamedTuple

from django.dispatch import Signal


class ScoredAttempt(NamedTuple):
    attempt_id: int
    candidate_id: int
    exam_id: int


# Sent once the transaction that stored results commits, with ``attempts``: a list of ScoredAttempt, one for each
# attempt scored there (a scoring task scores a batch of attempts at once, so that receivers can look up what they
# need for all of them in one query).
attempts_scored = Signal()
