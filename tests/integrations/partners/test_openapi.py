"""Every partner API operation documents an example answer and its errors, and the request bodies carry examples."""

from fastapi.testclient import TestClient

from icc_app import api
from icc_app.integrations.partners.api import router


def test_every_partner_operation_has_an_example_answer():
    doc = TestClient(api.build()).get("/api/openapi.json").json()
    mine = {"/api/v1" + route.path for route in router.routes}
    operations = [(method, path, op) for path, ops in doc["paths"].items() if path in mine for method, op in ops.items()]
    assert len(operations) == 20
    for method, path, op in operations:
        assert op["tags"] == ["partner API"]
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        assert success, (method, path)
        for code, response in success.items():
            if code != "204":
                assert response["content"]["application/json"]["example"], (method, path, code)
        assert {"401", "422"} <= set(op["responses"]) or path.endswith(("/scopes", "/webhook-events", "/whoami")), \
            (method, path)
        if "requestBody" in op:
            ref = op["requestBody"]["content"]["application/json"]["schema"]
            ref = ref.get("$ref") or next(r["$ref"] for r in ref.get("anyOf", []) if "$ref" in r)
            schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
            assert schema.get("examples"), (method, path)
            assert {"400", "413"} <= set(op["responses"]), (method, path)
