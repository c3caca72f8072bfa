"""Serving an item's images and audio to the people who may see the item, and no one else."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from apps.questions.selectors import item_media_for_user


@require_safe
@login_required
def item_media(request: HttpRequest, media_id: uuid.UUID, name: str) -> FileResponse:
    """One media file, or 404 when it does not exist or the user may not see its item (the same answer, so the
    URL says nothing about items one cannot see)."""
    media = item_media_for_user(user=request.user, media_id=media_id, name=name)
    if media is None:
        raise Http404("No such file.")
    try:
        handle = media.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=media.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # An SVG can carry script: opened on its own it must not run in our origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    response.private_cacheable = True  # type: ignore[attr-defined]  # not no-store: pages show it again and again
    return response
