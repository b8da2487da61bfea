"""The registry server's distribution API over HTTP: uploads, mounts, manifests, listings, errors."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

pytestmark = pytest.mark.usefixtures("skiff_registry")

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload_monolithic(base: str, name: str, data: bytes) -> requests.Response:
    return requests.post(f"{base}/v2/{name}/blobs/uploads/", params={"digest": digest(data)}, data=data)


def upload_chunked(base: str, name: str, chunks: list[bytes]) -> str:
    r = requests.post(f"{base}/v2/{name}/blobs/uploads/")
    assert r.status_code == 202 and r.headers["Range"] == "0-0" and r.headers["Docker-Upload-UUID"]
    location, offset = r.headers["Location"], 0
    for chunk in chunks:
        r = requests.patch(base + location, data=chunk, headers={
            "Content-Range": f"{offset}-{offset + len(chunk) - 1}", "Content-Type": "application/octet-stream"})
        assert r.status_code == 202, r.text
        offset += len(chunk)
        assert r.headers["Range"] == f"0-{offset - 1}"
        location = r.headers["Location"]
    whole = b"".join(chunks)
    r = requests.put(base + location, params={"digest": digest(whole)})
    assert r.status_code == 201, r.text
    assert r.headers["Docker-Content-Digest"] == digest(whole)
    return digest(whole)


def push_image(base: str, name: str, tag: str, layer: bytes) -> tuple[str, bytes]:
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}}).encode()
    assert upload_monolithic(base, name, config).status_code == 201
    upload_chunked(base, name, [layer])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "size": len(config), "digest": digest(config)},
                           "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar",
                                       "size": len(layer), "digest": digest(layer)}]}).encode()
    r = requests.put(f"{base}/v2/{name}/manifests/{tag}", data=manifest, headers={"Content-Type": DOCKER_MANIFEST})
    assert r.status_code == 201, r.text
    return r.headers["Docker-Content-Digest"], manifest


def error_code(r: requests.Response) -> str:
    return r.json()["errors"][0]["code"]


def test_base_endpoint(skiff_registry):
    r = requests.get(skiff_registry.url + "/v2/")
    assert r.status_code == 200
    assert r.headers["Docker-Distribution-API-Version"] == "registry/2.0"


def test_chunked_upload_then_get_head_and_range(skiff_registry):
    base = skiff_registry.url
    d = upload_chunked(base, "api/chunks", [b"a" * 1000, b"b" * 5000, b"c"])
    r = requests.get(f"{base}/v2/api/chunks/blobs/{d}")
    assert r.content == b"a" * 1000 + b"b" * 5000 + b"c"
    head = requests.head(f"{base}/v2/api/chunks/blobs/{d}")
    assert head.status_code == 200 and head.headers["Content-Length"] == "6001"
    assert head.headers["Docker-Content-Digest"] == d
    part = requests.get(f"{base}/v2/api/chunks/blobs/{d}", headers={"Range": "bytes=5990-"})
    assert part.status_code == 206 and part.content == b"b" * 10 + b"c"


def test_out_of_order_chunk_is_refused(skiff_registry):
    base = skiff_registry.url
    r = requests.post(f"{base}/v2/api/order/blobs/uploads/")
    r = requests.patch(base + r.headers["Location"], data=b"xx", headers={"Content-Range": "5-6"})
    assert r.status_code == 416 and error_code(r) == "RANGE_INVALID"


def test_mismatching_digest_is_rejected_and_nothing_remains(skiff_registry):
    base = skiff_registry.url
    before = sorted(p.name for p in (skiff_registry.storage / "blobs" / "sha256").iterdir())
    uploads = sorted(p.name for p in (skiff_registry.storage / "_uploads").iterdir())
    r = requests.post(f"{base}/v2/api/bad/blobs/uploads/", params={"digest": digest(b"other")}, data=b"payload")
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    r = requests.post(f"{base}/v2/api/bad/blobs/uploads/")
    r = requests.put(base + r.headers["Location"], params={"digest": digest(b"other")}, data=b"payload")
    assert r.status_code == 400 and error_code(r) == "DIGEST_INVALID"
    assert sorted(p.name for p in (skiff_registry.storage / "blobs" / "sha256").iterdir()) == before
    assert sorted(p.name for p in (skiff_registry.storage / "_uploads").iterdir()) == uploads
    assert requests.head(f"{base}/v2/api/bad/blobs/{digest(b'payload')}").status_code == 404


def test_cross_repository_mount(skiff_registry):
    base = skiff_registry.url
    data = b"mount me"
    assert upload_monolithic(base, "api/src", data).status_code == 201
    r = requests.post(f"{base}/v2/api/dst/blobs/uploads/", params={"mount": digest(data), "from": "api/src"})
    assert r.status_code == 201 and r.headers["Docker-Content-Digest"] == digest(data)
    assert requests.get(f"{base}/v2/api/dst/blobs/{digest(data)}").content == data
    r = requests.post(f"{base}/v2/api/dst2/blobs/uploads/", params={"mount": digest(b"nope"), "from": "api/src"})
    assert r.status_code == 202  # not mountable: an ordinary upload starts instead


def test_manifests_by_tag_and_digest_tags_and_delete(skiff_registry):
    base = skiff_registry.url
    d, body = push_image(base, "api/img", "v1", b"layer-bytes")
    for ref in ("v1", d):
        r = requests.get(f"{base}/v2/api/img/manifests/{ref}", headers={"Accept": DOCKER_MANIFEST})
        assert r.status_code == 200 and r.content == body
        assert r.headers["Content-Type"] == DOCKER_MANIFEST and r.headers["Docker-Content-Digest"] == d
    head = requests.head(f"{base}/v2/api/img/manifests/v1")
    assert head.headers["Content-Length"] == str(len(body))
    assert requests.get(f"{base}/v2/api/img/tags/list").json() == {"name": "api/img", "tags": ["v1"]}
    assert requests.delete(f"{base}/v2/api/img/manifests/{d}").status_code == 202
    r = requests.get(f"{base}/v2/api/img/manifests/v1")
    assert r.status_code == 404 and error_code(r) == "MANIFEST_UNKNOWN"


def test_manifest_naming_missing_blobs_is_refused(skiff_registry):
    base = skiff_registry.url
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": "x", "size": 1, "digest": digest(b"missing")}, "layers": []}
    r = requests.put(f"{base}/v2/api/missing/manifests/v1", json=manifest)
    assert r.status_code == 400 and error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    r = requests.put(f"{base}/v2/api/missing/manifests/v1", data=b"{not json")
    assert r.status_code == 400 and error_code(r) == "MANIFEST_INVALID"


def test_catalog_pagination(skiff_registry):
    base = skiff_registry.url
    for n in ("a", "b", "c"):
        push_image(base, f"page/{n}", "t", b"x")
    all_repos = requests.get(f"{base}/v2/_catalog").json()["repositories"]
    assert ["page/a", "page/b", "page/c"] == [r for r in all_repos if r.startswith("page/")]
    first = requests.get(f"{base}/v2/_catalog", params={"n": 1, "last": "page/"})
    assert first.json() == {"repositories": ["page/a"]}
    assert first.headers["Link"] == '</v2/_catalog?last=page/a&n=1>; rel="next"'
    assert requests.get(f"{base}/v2/_catalog", params={"n": 2, "last": "page/a"}).json()["repositories"][:2] == \
        ["page/b", "page/c"]
    assert error_code(requests.get(f"{base}/v2/_catalog", params={"n": "x"})) == "PAGINATION_NUMBER_INVALID"


@pytest.mark.parametrize("path,code,status", [
    ("/v2/UPPER/tags/list", "NAME_INVALID", 400),
    ("/v2/never/pushed/tags/list", "NAME_UNKNOWN", 404),
    (f"/v2/api/x/blobs/{'sha256:' + '0' * 64}", "BLOB_UNKNOWN", 404),
    ("/v2/api/x/blobs/uploads/no-such-upload", "BLOB_UPLOAD_UNKNOWN", 404),
])
def test_errors_have_the_spec_codes(skiff_registry, path, code, status):
    r = requests.get(skiff_registry.url + path)
    assert r.status_code == status and error_code(r) == code


def test_v1_search(skiff_registry):
    push_image(skiff_registry.url, "findme/app", "t", b"y")
    r = requests.get(skiff_registry.url + "/v1/search", params={"q": "findme"})
    assert [x["name"] for x in r.json()["results"]] == ["findme/app"]


def test_large_config_and_oversized_manifest(skiff_registry):
    base = skiff_registry.url
    big = b"x" * (3 << 20)  # a manifest body read in many pieces
    manifest = json.dumps({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "padding": big.decode(),
                           "config": {"mediaType": "x", "size": 1, "digest": digest(b"missing")}, "layers": []})
    r = requests.put(f"{base}/v2/api/big/manifests/v1", data=manifest)
    assert r.status_code == 400 and error_code(r) == "MANIFEST_BLOB_UNKNOWN"
    r = requests.put(f"{base}/v2/api/big/manifests/v1", data=b" " * (5 << 20))
    assert r.status_code == 400 and error_code(r) == "MANIFEST_INVALID"
