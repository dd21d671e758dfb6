"""The storage role on S3 or anything that speaks its API (MinIO, Cloudflare R2), through boto3.

Every object is published whole or not at all: a single PUT and a multipart upload both become visible only when
they complete (boto3 aborts a failed multipart upload), and a copy is one server-side call. Sets of objects are
taken as complete only through the stage record a stage writes last (clipped/stage_record.py).

Credentials never sit in config: boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile,
an IAM role on the pod) supplies them.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError
from pydantic import Field, PrivateAttr

from clipped.layout import InvalidKeyError, check_key, check_raw_inbox_key
from clipped.storage import ObjectInfo
from clipped_resources.storage import (
    STALE_TEMP_S,
    VIDEO_CONTENT_TYPES,
    PresignedUpload,
    StorageResource,
    WriterProcess,
    check_range,
    is_stale_temp,
)

_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Storage(StorageResource):
    """Storage in one S3 bucket; keys are the same ``{workspace_id}/...`` keys as on disk."""

    bucket: str = Field(description="Bucket that holds every workspace's objects")
    endpoint_url: str | None = Field(default=None, description="Non-AWS endpoint (MinIO, R2); None for AWS S3")
    region_name: str | None = Field(default=None, description="Region; None lets boto3 read AWS_REGION etc.")
    addressing_style: str = Field(default="auto", description="'path' for most MinIO setups, else 'auto'")
    work_dir: str | None = Field(default=None, description="Local scratch for downloads (default: system temp)")
    multipart_threshold_bytes: int = Field(default=64 * 1024**2, description="Files from this size go multipart")
    multipart_chunk_bytes: int = Field(default=16 * 1024**2, description="Part size of multipart transfers")
    max_concurrency: int = Field(default=8, description="Parallel parts per transfer")
    presign_expiry_s: int = Field(default=3600, description="Default lifetime of presigned URLs")
    max_upload_bytes: int = Field(default=2 * 1024**3, description="Cap on one presigned upload (2 GB)")

    _client_cache: Any = PrivateAttr(default=None)

    # -- connection -------------------------------------------------------------------------------------------

    def s3_client(self) -> Any:
        """The boto3 client (created once per resource instance; boto3 clients are thread-safe)."""
        if self._client_cache is None:
            config = Config(
                s3={"addressing_style": self.addressing_style},
                signature_version="s3v4",
                retries={"max_attempts": 5, "mode": "standard"},
            )
            self._client_cache = boto3.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region_name, config=config
            )
        return self._client_cache

    def transfer_config(self) -> TransferConfig:
        return TransferConfig(
            multipart_threshold=self.multipart_threshold_bytes,
            multipart_chunksize=self.multipart_chunk_bytes,
            max_concurrency=self.max_concurrency,
        )

    def scratch_dir(self) -> Path:
        folder = Path(self.work_dir) if self.work_dir else Path(tempfile.gettempdir()) / "clipped-s3"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- the interface ----------------------------------------------------------------------------------------

    def exists(self, key: str) -> bool:
        try:
            self.s3_client().head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def read_bytes(self, key: str) -> bytes:
        with self._missing_as_file_not_found(key):
            response = self.s3_client().get_object(Bucket=self.bucket, Key=check_key(key))
        return response["Body"].read()

    def read_range(self, key: str, start: int, length: int) -> bytes:
        check_range(start, length)
        if length == 0:  # no Range header can ask for zero bytes; still refuse a missing key
            self.size(key)
            return b""
        request = {"Bucket": self.bucket, "Key": check_key(key), "Range": f"bytes={start}-{start + length - 1}"}
        try:
            with self._missing_as_file_not_found(key):
                response = self.s3_client().get_object(**request)
        except ClientError as exc:
            # 416: the range starts at or past the end of an existing object; that is an empty read, as on disk.
            if str(exc.response.get("Error", {}).get("Code")) in {"InvalidRange", "416"}:
                return b""
            raise
        return response["Body"].read()

    def write_bytes(self, key: str, data: bytes) -> None:
        self.s3_client().put_object(Bucket=self.bucket, Key=check_key(key), Body=data)

    def put_file(self, source: Path, key: str) -> None:
        self.s3_client().upload_file(
            str(source),
            self.bucket,
            check_key(key),
            ExtraArgs=_content_type_args(key),
            Config=self.transfer_config(),
        )

    def size(self, key: str) -> int:
        with self._missing_as_file_not_found(key):
            head = self.s3_client().head_object(Bucket=self.bucket, Key=check_key(key))
        return int(head["ContentLength"])

    def list_keys(self, prefix: str) -> list[str]:
        return [info.key for info in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        folder = check_key(prefix.rstrip("/")) + "/"
        paginator = self.s3_client().get_paginator("list_objects_v2")
        objects = [
            ObjectInfo(key=item["Key"], size=int(item["Size"]), version=item["ETag"].strip('"'))
            for page in paginator.paginate(Bucket=self.bucket, Prefix=folder)
            for item in page.get("Contents", [])
        ]
        return sorted(objects, key=lambda info: info.key)

    def object_info(self, key: str) -> ObjectInfo:
        with self._missing_as_file_not_found(key):
            head = self.s3_client().head_object(Bucket=self.bucket, Key=check_key(key))
        return ObjectInfo(key=key, size=int(head["ContentLength"]), version=head["ETag"].strip('"'))

    def copy(self, source_key: str, target_key: str) -> None:
        # Managed copy: one CopyObject, or a multipart copy for objects over 5 GB; server-side either way.
        with self._missing_as_file_not_found(source_key):
            self.s3_client().copy(
                {"Bucket": self.bucket, "Key": check_key(source_key)},
                self.bucket,
                check_key(target_key),
                Config=self.transfer_config(),
            )

    def delete(self, key: str) -> None:
        self.s3_client().delete_object(Bucket=self.bucket, Key=check_key(key))

    def rename_raw(self, raw_key: str, target_key: str) -> None:
        folder, _ = check_raw_inbox_key(raw_key)  # on S3 any key under the prefix is one object, never a path
        if check_key(target_key).split("/")[0] != folder.split("/")[0]:
            raise InvalidKeyError(f"{target_key!r} is in another workspace than {raw_key!r}")
        if self.exists(target_key):
            raise FileExistsError(f"storage key {target_key!r} already exists")
        with self._missing_as_file_not_found(raw_key):
            self.s3_client().copy(
                {"Bucket": self.bucket, "Key": raw_key}, self.bucket, target_key, Config=self.transfer_config()
            )
        self.s3_client().delete_object(Bucket=self.bucket, Key=raw_key)

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{check_key(key)}"

    def sweep_temps(self, prefix: str, older_than_s: float = STALE_TEMP_S) -> list[str]:
        """Objects are never half-written on S3; what a killed writer leaves is a scratch folder on this machine
        (``put-``/``get-``, named after their process) and, for a big file, an incomplete multipart upload that
        is invisible but billed: abandoned scratch folders go, and uploads under ``prefix`` older than
        ``older_than_s`` are aborted (the writer of one cannot be told from S3)."""
        folder, _, start = prefix.rpartition("/")
        check_key(folder or start)
        removed = []
        for entry in self.scratch_dir().iterdir():
            if entry.name.startswith(("put-", "get-")) and entry.is_dir() and is_stale_temp(entry, older_than_s):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_s)
        client = self.s3_client()
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] < cutoff:
                    client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    removed.append(f"s3://{self.bucket}/{upload['Key']} (upload {upload['UploadId']})")
        return removed

    @contextlib.contextmanager
    def local_path(self, key: str) -> Iterator[Path]:
        """Stream the object to a private file in the work dir; the file is removed when the block ends."""
        with tempfile.TemporaryDirectory(prefix=_scratch_prefix("get"), dir=self.scratch_dir()) as scratch:
            path = Path(scratch) / f"object{Path(key).suffix}"
            self.download(key, path)
            yield path

    def download(self, key: str, destination: Path) -> None:
        """Ranged, parallel GETs straight into ``destination`` (never the whole object in memory)."""
        partial = destination.with_name(f".{destination.name}.part-{uuid.uuid4().hex[:8]}")
        try:
            with self._missing_as_file_not_found(key):
                self.s3_client().download_file(self.bucket, check_key(key), str(partial), Config=self.transfer_config())
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[Path]:
        check_key(key)
        with tempfile.TemporaryDirectory(prefix=_scratch_prefix("put"), dir=self.scratch_dir()) as scratch:
            path = Path(scratch) / f"out{Path(key).suffix}"
            yield path
            self.put_file(path, key)

    def presigned_get(self, key: str, expires_s: int | None = None) -> str:
        return self.s3_client().generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": check_key(key)},
            ExpiresIn=expires_s or self.presign_expiry_s,
        )

    def presigned_put(
        self, key: str, content_type: str, max_bytes: int | None = None, expires_s: int | None = None
    ) -> PresignedUpload:
        """A presigned POST whose signed policy pins the key, the content type and a 1..max_bytes size range.

        A POST policy (not a PUT URL) because only a policy can carry a size *range* that the store enforces;
        AWS S3 and MinIO enforce it. Cloudflare R2 has no POST uploads (see docs/storage-and-sensor.md).
        """
        check_key(key)
        if content_type not in VIDEO_CONTENT_TYPES:
            accepted = ", ".join(sorted(VIDEO_CONTENT_TYPES))
            raise ValueError(f"content type {content_type!r} is not an accepted video type ({accepted})")
        limit = self.max_upload_bytes if max_bytes is None else max_bytes
        if not 0 < limit <= self.max_upload_bytes:
            raise ValueError(f"upload size cap must be between 1 and {self.max_upload_bytes} bytes, got {limit}")
        lifetime = expires_s or self.presign_expiry_s
        post = self.s3_client().generate_presigned_post(
            self.bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, limit]],
            ExpiresIn=lifetime,
        )
        return PresignedUpload(
            url=post["url"],
            method="POST",
            key=key,
            fields={name: str(value) for name, value in post["fields"].items()},
            headers={},
            content_type=content_type,
            max_bytes=limit,
            expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
        )

    # -- helpers ----------------------------------------------------------------------------------------------

    @staticmethod
    @contextlib.contextmanager
    def _missing_as_file_not_found(key: str) -> Iterator[None]:
        """The same error LocalStorage raises for a missing key."""
        try:
            yield
        except ClientError as exc:
            if _is_missing(exc):
                raise FileNotFoundError(f"storage key {key!r} does not exist") from exc
            raise


def _scratch_prefix(kind: str) -> str:
    """``put-``/``get-`` and the writer's process: a sweep removes a folder whose process was killed."""
    return f"{kind}-{WriterProcess.current().token}-"


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING_CODES


def _content_type_args(key: str) -> dict[str, str]:
    """A content type from the extension, so presigned GETs of clips play in a browser."""
    types = {".mp4": "video/mp4", ".jpg": "image/jpeg", ".json": "application/json", ".wav": "audio/wav"}
    content_type = types.get(Path(key).suffix.lower())
    return {"ContentType": content_type} if content_type else {}
