"""The OpenAPI document states one error model for every error answer of /api, and every operation lists them."""

from fastapi.testclient import TestClient

from icc_app import api


def test_every_error_answer_of_the_api_is_the_one_error_model():
    doc = TestClient(api.build()).get("/api/openapi.json").json()
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert set(doc["components"]["schemas"]["ErrorBody"]["properties"]) == {"detail", "field", "errors"}
    operations = [(m, p, op) for p, ops in doc["paths"].items() if p.startswith("/api/v1/") and "health" not in p
                  for m, op in ops.items()]
    assert len(operations) >= 30
    for method, path, op in operations:
        errors = {code: r for code, r in op["responses"].items() if code >= "400"}
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in errors, (method, path)
        for code, response in errors.items():
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, \
                (method, path, code)
        # Anyone may call these: public pages' data, and links or callbacks checked by their own token/signature.
        public = path.startswith(("/api/v1/dispensar", "/api/v1/dispensary-photos", "/api/v1/integrations/vendors",
                                  "/api/v1/loyalty/unsubscribe", "/api/v1/loyalty/sms/"))
        assert public or "401" in errors, (method, path)
