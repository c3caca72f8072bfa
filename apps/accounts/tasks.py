"""Celery entry points for accounts: thin wrappers over the services."""

from celery import shared_task

from apps.accounts.services import account_email_send as account_email_send_service
from apps.accounts.services import accounts_unactivated_purge as accounts_unactivated_purge_service


# OSError covers smtplib's errors and a refused connection: the mail server may come back.
@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=1800, max_retries=8, acks_late=True)
def account_email_send(
    user_id: int, kind: str, site_url: str, next_url: str = "", cohort_id: int | None = None
) -> bool:
    return account_email_send_service(
        user_id=user_id, kind=kind, site_url=site_url, next_url=next_url, cohort_id=cohort_id
    )


@shared_task(acks_late=True)
def accounts_unactivated_purge() -> int:
    return accounts_unactivated_purge_service()
