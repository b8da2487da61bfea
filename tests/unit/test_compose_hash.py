"""The config hash is docker-compose 1.29's: what it hashes for these projects was printed by
docker-compose itself (`Service.config_dict()`), and skiff's input must be the same."""

import hashlib
import json
import textwrap

from skiff.compose.composehash import hash_input, service_hash
from skiff.compose.loader import load_project

IMAGE = "sha256:a93da448647ab06d69864ccc3936d694b5e1164ceb977b4a6e5f434f675020d3"

RICH = """
version: "3.8"
services:
  db:
    image: busybox
    command: ["sleep", "1d"]
    volumes: ["data:/data", "./x:/x:ro", "/anon"]
    environment: {A: "1", B: null}
    env_file: e.env
    labels: [x=1]
    expose: [90]
    networks:
      default:
        aliases: [database]
  web:
    image: busybox
    entrypoint: sh
    depends_on: [db]
    restart: always
    healthcheck: {test: "true", interval: 10s}
    ports: ["127.0.0.1:8080:80/udp", "90"]
    extra_hosts: ["a:1.2.3.4"]
    ulimits: {nofile: 10}
    mem_limit: 64m
    cpus: 0.5
    dns: 8.8.8.8
    working_dir: /w
    user: "1000"
    tty: true
    stop_grace_period: 5s
    volumes_from: [db]
volumes:
  data: {}
"""

# docker-compose 1.29.2's config_dict() for RICH in a directory named `hashp`.
RICH_REFERENCE = {
    "db": {"image_id": IMAGE, "ipc_mode": None, "links": [], "net": "hashp_default",
           "networks": {"hashp_default": {"aliases": ["database"]}},
           "options": {"command": ["sleep", "1d"], "device_requests": None,
                       "environment": {"A": "1", "B": None, "E": "2"}, "expose": [90], "image": "busybox",
                       "labels": {"x": "1"}, "platform": None,
                       "volumes": [["hashp_data", "/data", "rw"], ["{dir}/x", "/x", "ro"], [None, "/anon", "rw"]]},
           "secrets": [], "volumes_from": []},
    "web": {"image_id": IMAGE, "ipc_mode": None, "links": [], "net": "hashp_default",
            "networks": {"hashp_default": {}},
            "options": {"cpus": 0.5, "depends_on": {"db": {"condition": "service_started"}}, "device_requests": None,
                        "dns": ["8.8.8.8"], "entrypoint": "sh", "extra_hosts": ["a:1.2.3.4"],
                        "healthcheck": {"interval": 10000000000, "test": "true"}, "image": "busybox",
                        "mem_limit": "64m", "platform": None,
                        "ports": [[80, 8080, "udp", None, "127.0.0.1"], [90, None, None, None, None]],
                        "restart": {"MaximumRetryCount": 0, "Name": "always"}, "stop_grace_period": "5s",
                        "tty": True, "ulimits": {"nofile": 10}, "user": "1000", "volumes": [], "working_dir": "/w"},
            "secrets": [], "volumes_from": [["db", "rw"]]},
}

MODES = """
version: "2.4"
services:
  a:
    build: {context: ./app, args: {X: "1"}}
    networks: [front, back]
    ports: ["9000-9001:90-91", {target: 80, published: 8080}]
    tmpfs: /run
    dns_search: example.com
    labels: {b: "2"}
    environment: [C=3, D]
  b:
    image: busybox
    network_mode: host
    links: ["a:alias"]
    ipc: host
  c:
    image: busybox
    network_mode: "service:b"
    volumes_from: ["b:ro"]
networks:
  front: {}
  back: {}
"""

MODES_REFERENCE = {
    "a": {"image_id": None, "ipc_mode": None, "links": [], "net": "hash2_back",
          "networks": {"hash2_back": {}, "hash2_front": {}},
          "options": {"build": {"args": {"X": "1"}, "context": "{dir}/app"}, "device_requests": None,
                      "dns_search": ["example.com"], "environment": {"C": "3", "D": None}, "labels": {"b": "2"},
                      "platform": None, "ports": [[90, 9000, None, None, None], [91, 9001, None, None, None],
                                                  [80, 8080, None, None, None]],
                      "tmpfs": ["/run"], "volumes": []},
          "secrets": [], "volumes_from": []},
    "b": {"image_id": IMAGE, "ipc_mode": "host", "links": [["a", "alias"]], "net": "host", "networks": {},
          "options": {"device_requests": None, "image": "busybox", "platform": None, "volumes": []},
          "secrets": [], "volumes_from": []},
    "c": {"image_id": IMAGE, "ipc_mode": None, "links": [], "net": "b", "networks": {},
          "options": {"device_requests": None, "image": "busybox", "platform": None, "volumes": []},
          "secrets": [], "volumes_from": [["b", "ro"]]},
}

FIG = "web:\n  image: busybox\n  links: [redis]\n  ports: [\"5000:5000\"]\nredis:\n  image: busybox\n"
FIG_REFERENCE = {
    "web": {"image_id": IMAGE, "ipc_mode": None, "links": [["redis", None]], "net": None, "networks": {},
            "options": {"device_requests": None, "image": "busybox", "platform": None,
                        "ports": [[5000, 5000, None, None, None]]}, "secrets": [], "volumes_from": []},
}


def with_dir(ref, d: str):
    return json.loads(json.dumps(ref).replace("{dir}", d))


def compare(tmp_path, name: str, text: str, reference: dict, extra: dict | None = None, images=None):
    d = tmp_path / name
    d.mkdir()
    (d / "docker-compose.yml").write_text(textwrap.dedent(text))
    for fname, body in (extra or {}).items():
        (d / fname).write_text(body)
    project = load_project(str(d), environ={})
    for service, expected in with_dir(reference, str(d)).items():
        mine = json.loads(json.dumps(hash_input(project, service, expected["image_id"])))
        assert mine == expected, service
        dump = json.dumps(expected, sort_keys=True, separators=(",", ":"))
        assert service_hash(project, service, expected["image_id"]) == hashlib.sha256(dump.encode()).hexdigest()


def test_rich_service_options(tmp_path):
    compare(tmp_path, "hashp", RICH, RICH_REFERENCE, {"e.env": "E=2\n"})


def test_networks_modes_links_and_builds(tmp_path):
    compare(tmp_path, "hash2", MODES, MODES_REFERENCE)


def test_fig_version_1(tmp_path):
    compare(tmp_path, "fig", FIG, FIG_REFERENCE)


def test_hash_changes_with_the_image_and_the_options(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  a: {image: busybox}\n  b: {image: busybox, tty: true}\n")
    p = load_project(str(tmp_path), environ={})
    assert service_hash(p, "a", "sha256:1") != service_hash(p, "a", "sha256:2")
    assert service_hash(p, "a", "sha256:1") != service_hash(p, "b", "sha256:1")


DEPLOY_SECRETS = """
version: "3.8"
services:
  web:
    image: busybox
    mem_limit: 1g
    secrets:
      - db_pw
      - {source: db_pw, target: other, mode: 0400}
      - ext
    deploy:
      replicas: 2
      labels: {a: b}
      resources:
        limits: {cpus: "0.5"}
        reservations: {memory: 32M, cpus: "0.25"}
      restart_policy: {condition: on-failure, max_attempts: 3, delay: 5s}
  api:
    image: busybox
    deploy:
      restart_policy: {condition: any}
      resources:
        limits: {memory: 64M}
secrets:
  db_pw: {file: ./pw.txt}
  ext: {external: true}
"""

# docker-compose 1.29.2's config_dict() for DEPLOY_SECRETS in `hashd`: deploy's limits replace
# mem_limit (with a null when they leave memory out), the restart policy is a dict, and the
# secrets are ServiceSecret tuples with their file; the external one is left out.
DEPLOY_SECRETS_REFERENCE = {
    "web": {"image_id": IMAGE, "ipc_mode": None, "links": [], "net": "hashd_default",
            "networks": {"hashd_default": {}},
            "options": {"cpus": 0.5, "device_requests": None, "image": "busybox", "mem_limit": None,
                        "mem_reservation": "32M", "platform": None,
                        "restart": {"MaximumRetryCount": 3, "Name": "on-failure"}, "volumes": []},
            "secrets": [{"file": "{dir}/pw.txt", "secret": ["db_pw", None, None, None, None, None]},
                        {"file": "{dir}/pw.txt", "secret": ["db_pw", "other", None, None, 256, None]}],
            "volumes_from": []},
    "api": {"image_id": IMAGE, "ipc_mode": None, "links": [], "net": "hashd_default",
            "networks": {"hashd_default": {}},
            "options": {"device_requests": None, "image": "busybox", "mem_limit": "64M", "platform": None,
                        "restart": {"MaximumRetryCount": 0, "Name": "always"}, "volumes": []},
            "secrets": [], "volumes_from": []},
}


def test_deploy_and_secrets(tmp_path):
    compare(tmp_path, "hashd", DEPLOY_SECRETS, DEPLOY_SECRETS_REFERENCE, {"pw.txt": "pw"})
