"""Stored files (artifacts, contract files) on whichever storage is configured.

Every read and write of a stored file goes through Django's storage API, so the
same code serves the local folder (``MEDIA_ROOT``) and an S3-compatible object
store (``settings.STORAGES["default"]`` is ``ObjectStorage`` when
``AWS_STORAGE_BUCKET_NAME`` is set). Three things differ between the two, and
each is settled here, once:

* ``ObjectStorage`` reads an object as a stream. django-storages' ``S3File``
  downloads a whole object into a temporary file (kept in memory unless
  ``AWS_S3_MAX_MEMORY_SIZE`` says otherwise) before the first byte can be
  read; a 1 GiB download would wait for all of it.
* ``file_response`` streams a stored file to the browser in chunks, with its
  length and sha256, after the caller's access check. Downloads never
  redirect to a presigned URL: one access rule (the blind labels' 404
  included), and the object store need not be reachable from browsers.
* ``local_copy`` gives the validation engine (pyarrow, onnxruntime, a probe
  process) a path: the stored file itself on a local folder, a temporary copy
  streamed in chunks otherwise, deleted afterwards.
"""

import contextlib
import shutil
import tempfile
from pathlib import Path

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.base import File
from django.http import FileResponse
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

CHUNK_BYTES = 1024 * 1024


class StoredObject(File):
    """An object of the store, read front to back as it arrives (not seekable)."""

    def __init__(self, body, name, size):
        super().__init__(body, name)
        self.size = size

    def seekable(self):
        return False


class ObjectStorage(S3Storage):
    """django-storages' ``S3Storage`` whose reads stream the object (one GET,
    read in chunks, always binary) instead of downloading it whole first.
    Writes are S3Storage's own: ``upload_fileobj``, a multipart upload read
    from the uploaded file's temporary file part by part
    (``AWS_S3_TRANSFER_CONFIG`` bounds the parts held in memory). A file that
    came through ``HashingUploadHandler`` is stored with the sha256 computed
    as it arrived as its ``x-amz-meta-sha256``, so a restored bucket can be
    checked without the database."""

    def _open(self, name, mode="rb"):
        if any(flag in mode for flag in "wa+"):
            return super()._open(name, mode)
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as err:
            if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from None
            raise
        return StoredObject(answer["Body"], name, answer["ContentLength"])

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        sha256 = getattr(content, "sha256", "")
        if sha256:
            params["Metadata"] = {**params.get("Metadata", {}), "sha256": sha256}
        return params


def has_local_path(storage):
    try:
        storage.path("probe")
    except NotImplementedError:
        return False
    return True


class StoredFileResponse(FileResponse):
    # Bigger reads than FileResponse's 4 KiB: each read from an object store is a
    # read from a socket, and 1 MiB per download in flight is little memory.
    block_size = CHUNK_BYTES


def file_response(field_file, *, filename, sha256):
    """A download of a stored file as an attachment, streamed in chunks, with
    its sha256 in ``X-Content-SHA256``. The caller has checked access."""
    stored = field_file.storage.open(field_file.name, "rb")
    response = StoredFileResponse(stored, as_attachment=True, filename=filename,
                                  content_type="application/octet-stream")
    # FileResponse measures a local file; an object's length comes with the GET.
    response.headers.setdefault("Content-Length", str(stored.size))
    response["X-Content-SHA256"] = sha256
    return response


@contextlib.contextmanager
def local_copy(field_file):
    """The stored file as a local path, for as long as the block runs: the file
    itself when the storage is a local folder (no copy), else a copy streamed
    in chunks into a temporary folder of its own (``FILE_UPLOAD_TEMP_DIR``),
    deleted when the block ends. The copy keeps the stored file's base name.
    A file missing from the store gives a path that does not exist, as a file
    missing from the folder does: the engine reports it, the run goes on."""
    storage = field_file.storage
    if has_local_path(storage):
        yield Path(storage.path(field_file.name))
        return
    folder = Path(tempfile.mkdtemp(prefix="handoff-copy-", dir=settings.FILE_UPLOAD_TEMP_DIR))
    try:
        path = folder / Path(field_file.name).name
        try:
            with storage.open(field_file.name, "rb") as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, CHUNK_BYTES)
        except FileNotFoundError:
            path.unlink(missing_ok=True)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)
