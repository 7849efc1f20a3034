"""File storage behind one interface: local disk (embedded) or any S3-compatible service (full stack).

Keys are content-addressed (`<prefix>/<sha256[:2]>/<sha256><ext>`), so a stored file is never overwritten:
the same bytes map to the same key and different bytes to a different one. Each prefix has a policy with a
size limit and the content types it accepts, checked by sniffing the bytes (never by trusting the file name
or the browser's claimed type).
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlparse

import filetype

from icc_app.core.errors import ValidationFailed
from icc_app.settings import get_settings

PDF = "application/pdf"
IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True)
class PrefixPolicy:
    max_bytes: int
    allowed_types: frozenset[str] | None  # None: keep anything (the consumer reports what it cannot read)
    label: str


def _mb(n: int) -> int:
    return n * 1024 * 1024


def policies() -> dict[str, PrefixPolicy]:
    limit = _mb(get_settings().max_upload_mb)
    return {
        # COAs are kept whatever they are: parsing reports "not a PDF" and the file stays as evidence.
        "coas": PrefixPolicy(limit, None, "certificate of analysis"),
        "lot_photos": PrefixPolicy(min(limit, _mb(15)), IMAGES, "lot photo"),
        "dispensary_photos": PrefixPolicy(min(limit, _mb(10)), IMAGES, "dispensary photo"),
        "licenses": PrefixPolicy(limit, frozenset({PDF}) | IMAGES, "license document"),
        "proof_of_funds": PrefixPolicy(limit, frozenset({PDF}) | IMAGES, "proof of funds"),
        "evidence": PrefixPolicy(limit, frozenset({PDF}) | IMAGES, "dispute evidence"),
        "audit_anchors": PrefixPolicy(_mb(1), None, "audit checkpoint"),  # core/audit.py, outside the database
    }


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str
    content_type: str
    filename: str


def sniff_content_type(data: bytes) -> str:
    if data[:1024].lstrip().startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return PDF
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else "application/octet-stream"


_EXTENSIONS = {PDF: ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def build_object(prefix: str, data: bytes, filename: str) -> StoredObject:
    """Validate against the prefix policy and compute the content-addressed key."""
    policy = policies().get(prefix)
    if policy is None:
        raise ValueError(f"unknown storage prefix {prefix!r}")
    if not data:
        raise ValidationFailed(f"The {policy.label} file is empty.", field="file")
    if len(data) > policy.max_bytes:
        raise ValidationFailed(
            f"The {policy.label} is {len(data) / 1048576:.1f} MiB; the limit is {policy.max_bytes // 1048576} MiB.",
            field="file",
        )
    content_type = sniff_content_type(data)
    if policy.allowed_types is not None and content_type not in policy.allowed_types:
        accepted = ", ".join(sorted(_EXTENSIONS.get(t, t) for t in policy.allowed_types))
        raise ValidationFailed(
            f"{filename or 'The file'} is not an accepted {policy.label} type (accepted: {accepted}).",
            field="file",
        )
    digest = hashlib.sha256(data).hexdigest()
    key = f"{prefix}/{digest[:2]}/{digest}{_EXTENSIONS.get(content_type, '.bin')}"
    return StoredObject(key=key, size=len(data), sha256=digest, content_type=content_type, filename=filename)


class Storage(Protocol):
    def save(self, prefix: str, data: bytes, *, filename: str = "") -> StoredObject: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def keys(self, prefix: str) -> list[str]: ...
    def status(self) -> tuple[bool, str]: ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the media root: {key!r}")
        return path

    def save(self, prefix: str, data: bytes, *, filename: str = "") -> StoredObject:
        obj = build_object(prefix, data, filename)
        path = self._path(obj.key)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return obj

    def read(self, key: str) -> bytes:
        path = self._path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        return sorted(str(p.relative_to(self.root.resolve())) for p in base.rglob("*") if p.is_file()
                      and not p.name.startswith(".")) if base.is_dir() else []

    def status(self) -> tuple[bool, str]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".health"
            probe.write_bytes(b"ok")
            probe.unlink()
            return True, "ok"
        except OSError as exc:
            return False, f"{type(exc).__name__}: {exc}"[:200]


class S3Storage:
    """S3 or any S3-compatible server: s3://bucket/optional/prefix?endpoint_url=http://host:9000&region=us-east-1"""

    def __init__(self, url: str):
        import boto3
        from botocore.config import Config

        parsed = urlparse(url)
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        self.bucket = parsed.netloc
        self.base = parsed.path.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint_url"),
            region_name=query.get("region", "us-east-1"),
            config=Config(connect_timeout=3, read_timeout=30, retries={"max_attempts": 3}),
        )

    def _key(self, key: str) -> str:
        return f"{self.base}/{key}" if self.base else key

    def save(self, prefix: str, data: bytes, *, filename: str = "") -> StoredObject:
        obj = build_object(prefix, data, filename)
        if not self.exists(obj.key):
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(obj.key),
                Body=data,
                ContentType=obj.content_type,
                ChecksumAlgorithm="SHA256",
            )
        return obj

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def keys(self, prefix: str) -> list[str]:
        found = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                           Prefix=self._key(prefix) + "/"):
            found += [item["Key"][len(self._key("")):] for item in page.get("Contents", [])]
        return sorted(found)

    def status(self) -> tuple[bool, str]:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return True, "ok"
        except Exception as exc:  # noqa: BLE001 - health reporting must never raise
            return False, f"{type(exc).__name__}: {exc}"[:200]


def storage_from_url(url: str) -> Storage:
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        return S3Storage(url)
    return LocalStorage(Path(parsed.path))


@functools.cache
def get_storage() -> Storage:
    return storage_from_url(get_settings().storage_url)
