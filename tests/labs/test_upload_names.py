"""Whatever name a client sends with a COA (a NUL, newlines, a path, 1,000 characters, another script), the upload
is kept under a clean display name with its extension, and the file downloads with it: never a 500."""

import uuid
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from icc_app import api
from icc_app.core.db import unit_of_work
from icc_app.identity import service as identity
from icc_app.labs import service as labs
from icc_app.labs.models import CoaDocument
from tests.factories import make_business, make_user, session_token

LONG = "Certificate of Analysis " + "x" * 1000 + ".pdf"


@pytest.fixture()
def owner(connection, redis_client):
    with unit_of_work() as session:
        user = make_user(session)
        business = make_business(session, owner=user)
        token = session_token(session, user)
    return user, business, {"Authorization": f"Bearer {token}"}


def _multipart(business_id, filename: str, pdf: bytes) -> tuple[bytes, str]:
    """Built by hand: HTTP clients percent-escape odd names, a hostile client sends the raw bytes."""
    boundary = "icc-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="business_id"\r\n\r\n{business_id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(("sent", "shown"), [
    ("GDP\x00.pdf", "GDP.pdf"),
    ("tab\tand\x1bescape.pdf", "tab andescape.pdf"),
    ("C:\\Users\\lab\\Desktop\\GDP report.pdf", "GDP report.pdf"),
    ("\x00\x01", "coa.pdf"),
    ("検査報告書 final.pdf", "検査報告書 final.pdf"),
    (LONG, LONG[:251] + ".pdf"),
])
def test_upload_through_the_api_cleans_the_name(owner, client_and_pdf, sent, shown):
    user, business, headers = owner
    client, pdf = client_and_pdf
    body, content_type = _multipart(business.id, sent, pdf)
    created = client.post("/api/v1/coas", headers={**headers, "Content-Type": content_type}, content=body)
    assert created.status_code == 202, created.text
    with unit_of_work() as session:
        stored = session.get(CoaDocument, uuid.UUID(created.json()["id"])).filename
    assert stored == shown
    assert len(stored) <= 255 and stored.endswith(".pdf")
    download = client.get(f"/api/v1/coas/{created.json()['id']}/file", headers=headers)
    assert download.status_code == 200 and download.content == pdf
    assert unquote(download.headers["content-disposition"].split("filename*=UTF-8''")[1]) == stored


@pytest.fixture()
def client_and_pdf(shared_data):
    return (TestClient(api.build(), raise_server_exceptions=False),
            (shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes())


def test_service_keeps_the_upload_under_a_clean_name(owner, shared_data):
    user, business, _ = owner
    pdf = (shared_data / "coas/confident-cannabis/GDP.pdf").read_bytes()
    with unit_of_work() as session:
        principal = identity.build_principal(session, user)
        doc = labs.upload_coa(session, principal, business_id=business.id, data=pdf, filename="a\x00b\r\n" * 200 + ".PDF")
    with unit_of_work() as session:
        stored = session.get(CoaDocument, doc.id)
        assert stored.filename.endswith(".PDF") and len(stored.filename) == 255
        assert stored.filename.startswith("ab ab ab") and not any(c in stored.filename for c in "\x00\r\n")
        assert stored.size_bytes == len(pdf)


def test_display_name_rules():
    assert labs.display_filename("report.pdf") == "report.pdf"
    assert labs.display_filename("") == "coa.pdf"
    assert labs.display_filename("/etc/../passwd") == "passwd"
    assert labs.display_filename("x" * 300) == "x" * 255  # no extension: cut
    assert labs.display_filename("\u202egdp.pdf") == "gdp.pdf"  # a right-to-left override is a format character
