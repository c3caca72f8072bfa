"""Import throughput: a 2,000-question GIFT file through ``questions_import``, the service behind the command and
the admin (parse, duplicate checks against the bank, validation, writes), in one transaction that is then rolled
back so the benchmark database keeps only the shipped bank.

The questions are made up here, different from each other and from the bank: single and multiple response with
four to six options each, a third of them in Greek, Russian or Chinese, so the Unicode normalisation is on the
measured path.
"""

from __future__ import annotations

import time

from django.db import transaction

SCRIPTS = (
    ("", "Which option fits case {n}", "choice {n}-{k}"),
    ("", "A pipeline in scenario {n} fails at step {k}; what is the fix", "remedy {n}-{k}"),
    ("el", "Ποια επιλογή ταιριάζει στην περίπτωση {n}", "επιλογή {n}-{k}"),
    ("ru", "Какой вариант подходит для случая {n}", "вариант {n}-{k}"),
    ("zh", "哪个选项适合案例 {n}", "选项 {n}-{k}"),
    ("", "Which two settings reduce cost in deployment {n}", "setting {n}-{k}"),
)


def gift_bank(count: int) -> bytes:
    """``count`` distinct GIFT questions (see the module docstring)."""
    blocks = []
    for n in range(1, count + 1):
        _lang, stem, option = SCRIPTS[n % len(SCRIPTS)]
        options = 4 + n % 3
        multiple = n % len(SCRIPTS) == 5
        if multiple:
            share = "50"
            answers = [
                f"~%{share}%{option.format(n=n, k=k)}" if k < 2 else f"~%-100%{option.format(n=n, k=k)}"
                for k in range(options)
            ]
            text = stem.format(n=n, k=n % 7) + "? (Choose two.)"
        else:
            answers = [("=" if k == n % options else "~") + option.format(n=n, k=k) for k in range(options)]
            text = stem.format(n=n, k=n % 7) + "?"
        blocks.append(f"::bench-{n:05d}::{text} {{\n" + "\n".join(answers) + "\n}\n")
    return "\n".join(blocks).encode()


class _RollbackError(Exception):
    pass


def gift_import_time(*, exam, count: int = 2000) -> dict[str, float | int]:
    """Seconds to import ``count`` GIFT questions as drafts of task 1.1, and how many were written."""
    from apps.questions.interchange.importing import questions_import

    data = gift_bank(count)
    written = 0
    started = time.perf_counter()
    try:
        with transaction.atomic():
            report = questions_import(data=data, filename="bench.gift", exam=exam, task="1.1")
            seconds = time.perf_counter() - started
            if report.errors:
                raise RuntimeError("the benchmark file did not import: " + "; ".join(report.errors[:3]))
            written = report.to_write
            raise _RollbackError
    except _RollbackError:
        pass
    return {"seconds": seconds, "items": written, "bytes": len(data)}
