"""The OAuth endpoints take forms from any client: odd values get an RFC 6749 error, never a server error."""

import pytest
from fastapi.testclient import TestClient

from icc_app import api

HOSTILE = ["\x00", "a\x00b", "x" * 5000, "' OR 1=1 --"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("endpoint", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_oauth_forms_refuse_hostile_values_without_a_server_error(connection, redis_client, endpoint, value):
    client = TestClient(api.build(), base_url="https://testserver", raise_server_exceptions=False)
    for field in ("client_id", "grant_type", "code", "token", "client_secret", "redirect_uri"):
        response = client.post(endpoint, data={"grant_type": "client_credentials", "client_id": "x", field: value})
        assert 400 <= response.status_code < 500, (field, response.status_code, response.text)
    authorize = client.get("/oauth/authorize", params={"client_id": value, "redirect_uri": value,
                                                       "response_type": "code"})
    assert 400 <= authorize.status_code < 500
    userinfo = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {value.replace(chr(0), '%00')}"})
    assert userinfo.status_code == 401


def test_token_over_plain_http_is_an_oauth_error(connection, redis_client):
    client = TestClient(api.build(), base_url="http://icc.example", raise_server_exceptions=False)
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": "x"})
    assert response.status_code == 400 and response.json()["error"] == "insecure_transport"
