"""Uploads stream to a temporary file while their sha256 and size are computed.

``HashingUploadHandler`` (listed in ``settings.FILE_UPLOAD_HANDLERS``) never
holds a file in memory: each chunk is hashed and written as it arrives. A file
over ``settings.HANDOFF_MAX_UPLOAD_BYTES`` is dropped as soon as it crosses
the limit (its temporary file deleted, the rest of it read and discarded) and
the request remembers why, so the form or the API can say so:
``upload_error(request, "file")``.
"""

import hashlib

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat

from handoff.core.errors import DomainError

DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3
ERRORS_ATTRIBUTE = "handoff_upload_errors"


class FileTooLarge(DomainError):
    """A file over ``settings.HANDOFF_MAX_UPLOAD_BYTES``; nothing was stored."""

    status_code = 413


def max_upload_bytes():
    return getattr(settings, "HANDOFF_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def over_limit_message(limit=None):
    return f"The file is over the limit of {filesizeformat(limit or max_upload_bytes())}."


def sanitize_file_name(name):
    """The last part of a client-supplied file name, printable, never empty:
    ``../../etc/passwd`` -> ``passwd``, ``C:\\Users\\me\\model.onnx`` -> ``model.onnx``."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if char.isprintable()).strip()
    if name in {"", ".", ".."}:
        return "upload"
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + "." + ext) if dot and len(ext) < 20 else name[:200]
    return name


def measure_upload(uploaded_file):
    """(sha256, size) of an upload, refused when empty or over the limit
    (DomainError on ``file``; nothing is stored). The figures come from
    ``HashingUploadHandler`` when the file streamed through it, and are computed
    by streaming the file otherwise (never whole into memory)."""
    if uploaded_file is None:
        raise DomainError("Choose a file to upload.", field="file")
    if isinstance(uploaded_file, HashedUploadedFile):
        sha256, size = uploaded_file.sha256, uploaded_file.size
    else:
        digest = hashlib.sha256()
        size = 0
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            digest.update(chunk)
            size += len(chunk)
        uploaded_file.seek(0)
        sha256 = digest.hexdigest()
    limit = max_upload_bytes()
    if size > limit:
        raise FileTooLarge(over_limit_message(limit), field="file")
    if size == 0:
        raise DomainError("The file is empty; upload a file with content.", field="file")
    return sha256, size


def upload_error(request, field_name="file"):
    """Why the upload handler dropped the file sent as ``field_name``, or None."""
    request = getattr(request, "_request", request)  # a DRF Request wraps the HttpRequest
    return getattr(request, ERRORS_ATTRIBUTE, {}).get(field_name)


class HashedUploadedFile(TemporaryUploadedFile):
    """A temporary uploaded file whose ``sha256`` and ``size`` were computed
    while it streamed in."""

    sha256 = ""


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Streams every uploaded file to disk, hashing it chunk by chunk and
    dropping it once it crosses the upload limit."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()

    def new_file(self, field_name, file_name, content_type, content_length, charset=None,
                 content_type_extra=None):
        self.field_name = field_name
        self.file_name = sanitize_file_name(file_name)
        self.content_type = content_type
        self.content_length = content_length
        self.charset = charset
        self.content_type_extra = content_type_extra
        self.file = HashedUploadedFile(self.file_name, content_type, 0, charset, content_type_extra)
        self.digest = hashlib.sha256()
        self.received = 0
        if content_length is not None and content_length > self.limit:
            self._refuse()

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse()
        self.digest.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self.digest.hexdigest()
        return self.file

    def _refuse(self):
        # Closing a TemporaryUploadedFile deletes it: nothing of it is kept.
        self.file.close()
        if self.request is not None:
            errors = getattr(self.request, ERRORS_ATTRIBUTE, None)
            if errors is None:
                errors = {}
                setattr(self.request, ERRORS_ATTRIBUTE, errors)
            errors[self.field_name] = over_limit_message(self.limit)
        raise SkipFile()
