"""The OpenAPI document (/api/v1/openapi.json) is the API's contract: where it and the
server disagreed (issue 18: a PATCH with no body, an upload with an extra field, the file
types accepted, what a submission needs), each test reads what the document says and
checks that the server does exactly that. The document's cross-operation parts — the
Idempotency-Key header on every POST, the links between operations — are checked too."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest

from models.idempotency import KEY_LIMIT
from tests.conftest import ApiClient
from workflow.actions import REQUIRED_FOR_SUBMIT
from workflow.files import EXPECTED

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def document(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return dict(response.get_json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]


def schema_of(document: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    name = reference["$ref"].removeprefix("#/components/schemas/")
    return dict(document["components"]["schemas"][name])


def upload(api: ApiClient, memo_id: int, name: str, data: bytes, **fields: Any) -> Any:
    return api.client.post(
        f"/api/v1/memos/{memo_id}/attachments",
        data={"file": (BytesIO(data), name), **fields},
        content_type="multipart/form-data",
        headers=api.headers("officer", **ENGLISH),
    )


# --- (a) a PATCH needs its body -----------------------------------------------------------


def test_patch_without_a_body_is_refused_as_the_document_says(
    api: ApiClient, document: dict[str, Any]
) -> None:
    assert document["paths"]["/api/v1/memos/{memo_id}"]["patch"]["requestBody"]["required"]
    memo_id = api.office.create()
    path = f"/api/v1/memos/{memo_id}"

    no_body = api.client.patch(path, headers=api.headers("officer"))
    assert no_body.status_code == 422, no_body.get_json()
    assert no_body.get_json()["error"]["code"] == "validation_failed"
    assert set(no_body.get_json()["error"]["fields"]) == {"body"}
    assert "ข้อมูลที่ส่งมา (JSON) จำเป็นต้องกรอก" in no_body.get_json()["error"]["message"]

    # A body that is not JSON is not an empty JSON object either.
    as_form = api.client.patch(path, data={"subject": "เรื่องใหม่"}, headers=api.headers("officer"))
    assert as_form.status_code == 415, as_form.get_json()
    assert as_form.get_json()["error"]["code"] == "unsupported_media_type"

    memo = api.get("officer", path).get_json()
    assert memo["version"] == 1 and memo["subject"] != "เรื่องใหม่"
    # The same PATCH with its body does what it says.
    edited = api.patch("officer", path, {"subject": "เรื่องใหม่"})
    assert edited.status_code == 200 and edited.get_json()["subject"] == "เรื่องใหม่"


def test_every_json_body_in_the_document_is_required(
    api: ApiClient, document: dict[str, Any]
) -> None:
    bodies = [
        (method, path)
        for method, path, operation in operations(document)
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert ("post", "/api/v1/memos") in bodies
    for method, path, operation in operations(document):
        if (method, path) in bodies:
            assert operation["requestBody"]["required"] is True, (method, path)
    answer = api.client.post("/api/v1/memos", headers=api.headers("officer"))
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"body"}


# --- (b) an upload is the file and nothing else ---------------------------------------------


def test_an_upload_with_an_extra_field_is_refused_and_nothing_is_stored(
    api: ApiClient, document: dict[str, Any]
) -> None:
    body = document["paths"]["/api/v1/memos/{memo_id}/attachments"]["post"]["requestBody"]
    form = schema_of(document, body["content"]["multipart/form-data"]["schema"])
    assert form["additionalProperties"] is False and set(form["properties"]) == {"file"}
    memo_id = api.office.create()

    answer = upload(api, memo_id, "สรุป.txt", "ข้อความ".encode(), description="ฉบับย่อ")
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["fields"] == {"description": "is not a known field"}
    second_file = upload(api, memo_id, "สรุป.txt", b"text", extra=(BytesIO(b"x"), "x.txt"))
    assert second_file.status_code == 422
    assert set(second_file.get_json()["error"]["fields"]) == {"extra"}
    assert api.get("officer", f"/api/v1/memos/{memo_id}").get_json()["attachments"] == []

    assert upload(api, memo_id, "สรุป.txt", "ข้อความ".encode()).status_code == 201


# --- (c) the file types accepted are in the document ----------------------------------------


def test_the_document_lists_exactly_the_file_types_the_server_accepts(
    api: ApiClient, document: dict[str, Any]
) -> None:
    file_field = schema_of(document, {"$ref": "#/components/schemas/Upload"})["properties"]["file"]
    listed = file_field["x-allowed-extensions"]
    assert listed == sorted(EXPECTED)
    assert all(f".{extension}" in file_field["description"] for extension in listed)
    memo_id = api.office.create()
    # Each listed name gets past the name check (text under another type's name is then
    # refused for its contents, not its name); a name not listed is refused for its name.
    for extension in listed:
        answer = upload(api, memo_id, f"เอกสาร.{extension}", b"plain text")
        if answer.status_code != 201:
            assert answer.get_json()["error"]["fields"]["file"] == (
                "has contents that do not match its extension"
            ), extension
    for extension in ("zip", "html", "svg", "exe", "js"):
        answer = upload(api, memo_id, f"เอกสาร.{extension}", b"plain text")
        assert answer.status_code == 422, extension
        assert answer.get_json()["error"]["fields"]["file"].startswith("is not an accepted type"), (
            extension
        )


# --- (d) what a submission needs is in the document -----------------------------------------


def test_what_a_submission_needs_is_documented_and_enforced(
    api: ApiClient, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    action_text = schemas["Action"]["properties"]["action"]["description"]
    assert all(name in action_text for name in REQUIRED_FOR_SUBMIT)
    for form in ("MemoCreate", "MemoPatch"):
        for name in REQUIRED_FOR_SUBMIT:
            description = schemas[form]["properties"][name]["description"]
            assert "before the memo can be submitted" in description, (form, name)

    # A draft may be saved with only what the document requires of a create...
    created = api.post(
        "officer", "/api/v1/memos", {"subject": "ขอซ่อมถนน", "to": "นายก", "unit": ""}
    )
    assert created.status_code == 201, created.get_json()
    memo_id = created.get_json()["id"]
    # ...and its submission is refused naming exactly the documented fields left empty.
    refused = api.act("officer", memo_id, "submit")
    assert refused.status_code == 422
    assert set(refused.get_json()["error"]["fields"]) == {"unit", "facts", "proposal"}
    filled = {"unit": "สำนักปลัด", "facts": "ถนนชำรุด", "proposal": "เห็นควรซ่อม"}
    assert api.patch("officer", f"/api/v1/memos/{memo_id}", filled).status_code == 200
    submitted = api.act("officer", memo_id, "submit")
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["state"].startswith("pending_")


# --- across operations: the Idempotency-Key header and the links ----------------------------


def test_every_post_and_only_posts_document_the_idempotency_key(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        headers = {
            parameter["name"]: parameter
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "header"
        }
        if method == "post":
            key = headers["Idempotency-Key"]
            assert key["required"] is False, path
            assert key["schema"]["maxLength"] == KEY_LIMIT
            assert "idempotency_key_reused" in key["description"]
        else:
            assert "Idempotency-Key" not in headers, (method, path)


def test_every_link_leads_to_an_operation_with_the_parameters_it_fills(
    document: dict[str, Any],
) -> None:
    def resolve(reference: str) -> tuple[str, str]:
        pointer = reference.removeprefix("#/paths/")
        path, _, method = pointer.rpartition("/")
        return path.replace("~1", "/").replace("~0", "~"), method

    linked = set()
    for method, path, operation in operations(document):
        for response in operation["responses"].values():
            for name, link in response.get("links", {}).items():
                target_path, target_method = resolve(link["operationRef"])
                assert target_method in document["paths"].get(target_path, {}), name
                for parameter in link["parameters"]:
                    assert "{" + parameter + "}" in target_path, (name, parameter)
                linked.add((method, path, target_method, target_path))
    # A new memo leads to reading, editing, acting on and attaching to it.
    for target_method, target_path in [
        ("get", "/api/v1/memos/{memo_id}"),
        ("patch", "/api/v1/memos/{memo_id}"),
        ("post", "/api/v1/memos/{memo_id}/actions"),
        ("post", "/api/v1/memos/{memo_id}/attachments"),
    ]:
        assert ("post", "/api/v1/memos", target_method, target_path) in linked


def test_the_idempotency_key_behaves_as_documented(api: ApiClient) -> None:
    fields = {"subject": "ขอซ่อมถนน", "to": "นายก"}

    def create(key: str, **changes: str) -> Any:
        return api.post(
            "officer", "/api/v1/memos", fields | changes, headers={"Idempotency-Key": key}
        )

    first = create("5f0c6a3e-retry")
    retry = create("5f0c6a3e-retry")
    assert first.status_code == retry.status_code == 201
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    other = create("5f0c6a3e-retry", subject="เรื่องอื่น")
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    for invalid in ("   ", "k" * (KEY_LIMIT + 1)):
        answer = create(invalid)
        assert answer.status_code == 422
        assert answer.get_json()["error"]["code"] == "validation_failed"
    assert create("k" * KEY_LIMIT).status_code == 201
    listed = api.get("officer", "/api/v1/memos").get_json()
    assert listed["total"] == 2
