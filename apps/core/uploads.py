"""Refuse oversized uploads while they stream in, instead of after Django has spooled them to disk."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: drops a file once it passes ``IMPORT_MAX_BYTES`` and marks the request,
    so the view can say the file was too large rather than that none was sent."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.IMPORT_MAX_BYTES:
            self.request.upload_too_large = self.file_name  # type: ignore[attr-defined]
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
