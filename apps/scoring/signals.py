"""Events other apps may react to. Receivers only enqueue work; the work itself lives in services."""

from django.dispatch import Signal

# Sent after the transaction that stored an attempt's result commits; kwargs: attempt_id, candidate_id, exam_id.
attempt_scored = Signal()
