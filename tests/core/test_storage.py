"""Both storage backends: local disk and S3 (against moto's S3-compatible server on loopback)."""

import socket

import boto3
import pytest

from icc_app.core.errors import ValidationFailed
from icc_app.core.storage import LocalStorage, S3Storage

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00" * 64


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_url():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").create_bucket(Bucket="icc-test")
    yield f"s3://icc-test/media?endpoint_url={endpoint}&region=us-east-1"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, monkeypatch):
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    return S3Storage(request.getfixturevalue("s3_url"))


def test_round_trip_with_content_addressed_key(storage):
    obj = storage.save("coas", PDF, filename="coa.pdf")
    assert obj.key.startswith("coas/") and obj.key.endswith(".pdf")
    assert obj.content_type == "application/pdf" and obj.size == len(PDF)
    assert storage.read(obj.key) == PDF
    assert storage.exists(obj.key)
    assert storage.status() == (True, "ok")


def test_files_are_never_overwritten(storage):
    first = storage.save("proof_of_funds", PDF, filename="a.pdf")
    changed = PDF.replace(b"1.4", b"1.5")
    second = storage.save("proof_of_funds", changed, filename="a.pdf")  # same name, new bytes
    assert first.key != second.key
    assert storage.read(first.key) == PDF and storage.read(second.key) == changed
    again = storage.save("proof_of_funds", PDF, filename="renamed.pdf")
    assert again.key == first.key


def test_content_type_is_sniffed_not_trusted(storage):
    with pytest.raises(ValidationFailed, match="not an accepted lot photo type"):
        storage.save("lot_photos", PDF, filename="photo.jpg")
    assert storage.save("lot_photos", PNG, filename="photo.pdf").key.endswith(".png")


def test_empty_and_oversized_uploads_are_refused(storage, monkeypatch):
    with pytest.raises(ValidationFailed, match="empty"):
        storage.save("licenses", b"", filename="license.pdf")
    from icc_app.settings import get_settings

    monkeypatch.setenv("MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    try:
        big = PDF + b"0" * (1024 * 1024)
        with pytest.raises(ValidationFailed, match="is 1.0 MiB; the limit is 1 MiB"):
            storage.save("licenses", big, filename="license.pdf")
    finally:
        get_settings.cache_clear()


def test_unknown_key_reads_raise_file_not_found(storage):
    with pytest.raises(FileNotFoundError):
        storage.read("coas/00/" + "0" * 64 + ".pdf")


def test_local_keys_cannot_escape_root(tmp_path):
    with pytest.raises(ValueError, match="escapes"):
        LocalStorage(tmp_path).read("../../etc/passwd")


def test_s3_status_reports_a_missing_bucket(s3_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    ok, detail = S3Storage(s3_url.replace("icc-test", "no-such-bucket")).status()
    assert not ok and detail
