"""Secrets and configs outside swarm: where they land in the container, what is bind-mounted
and what is written, and the errors for what cannot be given. Pure (temp files only)."""

import io
import tarfile
import textwrap

import pytest

from skiff.compose import filerefs
from skiff.compose.errors import ConfigError, SchemaError
from skiff.compose.loader import load_project
from skiff.compose.spec import create_body


def load(tmp_path, text: str, files: dict | None = None, environ: dict | None = None):
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent(text))
    for name, body in (files or {}).items():
        (tmp_path / name).write_text(body)
    return load_project(str(tmp_path), environ=environ or {})


def test_targets_of_secrets_and_configs():
    assert filerefs.target_path("secrets", {"source": "pw"}) == "/run/secrets/pw"
    assert filerefs.target_path("secrets", {"source": "pw", "target": "db/pass"}) == "/run/secrets/db/pass"
    assert filerefs.target_path("secrets", {"source": "pw", "target": "/etc/pw"}) == "/etc/pw"
    assert filerefs.target_path("configs", {"source": "app"}) == "/app"
    assert filerefs.target_path("configs", {"source": "app", "target": "etc/app.conf"}) == "/etc/app.conf"


def test_file_backed_ones_are_read_only_binds_in_the_create_body(tmp_path):
    p = load(tmp_path, """
        version: "3.8"
        services:
          web:
            image: busybox
            secrets: [pw, {source: pw, target: copy}]
            configs: [{source: app, target: /etc/app.conf}]
        secrets:
          pw: {file: ./pw.txt}
        configs:
          app: {file: conf/app.conf}
        """, {"pw.txt": "s3cret"})
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "app.conf").write_text("x=1\n")
    assert p.secrets["pw"]["file"] == str(tmp_path / "pw.txt")
    mounts = create_body(p, "web", 1, containers={}, image_id=None, config_hash="h")["HostConfig"]["Mounts"]
    assert mounts == [
        {"Type": "bind", "Source": str(tmp_path / "pw.txt"), "Target": "/run/secrets/pw", "ReadOnly": True},
        {"Type": "bind", "Source": str(tmp_path / "pw.txt"), "Target": "/run/secrets/copy", "ReadOnly": True},
        {"Type": "bind", "Source": str(tmp_path / "conf/app.conf"), "Target": "/etc/app.conf", "ReadOnly": True},
    ]


def test_content_and_environment_ones_are_written_with_their_mode(tmp_path):
    p = load(tmp_path, """
        services:
          web:
            image: busybox
            secrets: [{source: token, uid: "1000", gid: "1001", mode: 0400}]
            configs: [inline]
        secrets:
          token: {environment: TOKEN}
        configs:
          inline: {content: "k=v\\n"}
        """, environ={"TOKEN": "abc"})
    found = filerefs.placements("web", p.services["web"], p.file_definitions(), {"TOKEN": "abc"})
    assert filerefs.bind_mounts(found) == []
    with tarfile.open(fileobj=io.BytesIO(filerefs.archive(found, mtime=1))) as tar:
        entries = {m.name: (m.mode, m.uid, m.gid, tar.extractfile(m).read()) for m in tar.getmembers()}
    assert entries == {"run/secrets/token": (0o400, 1000, 1001, b"abc"), "inline": (0o444, 0, 0, b"k=v\n")}
    assert filerefs.archive([]) is None


@pytest.mark.parametrize("definition,message", [
    ({"file": "/nonexistent/pw.txt"},
     'Service "web" uses an undefined secret file "/nonexistent/pw.txt", the following file should be created '
     '"/nonexistent/pw.txt" (secret "pw")'),
    ({"external": True},
     'Service "web" uses secret "pw" which is external. External secrets are not available to containers '
     "created by docker-compose."),
    ({"environment": "UNSET_VAR"}, 'environment variable "UNSET_VAR" required by secret "pw" is not set'),
])
def test_what_cannot_be_given_is_refused(definition, message):
    with pytest.raises(ConfigError) as e:
        filerefs.placements("web", {"secrets": ["pw"]}, {"secrets": {"pw": definition}}, {})
    assert e.value.message == message


def test_an_undefined_name_is_refused_at_load(tmp_path):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, """
            version: "3.8"
            services:
              web: {image: busybox, secrets: [nope]}
            secrets:
              pw: {file: ./pw.txt}
            """)
    assert e.value.message == 'Service "web" uses an undefined secret "nope" '


def test_bad_keys_are_schema_errors(tmp_path):
    with pytest.raises(SchemaError) as e:
        load(tmp_path, """
            version: "3.8"
            services:
              web: {image: busybox}
            secrets:
              pw: {path: ./pw.txt}
            """)
    assert e.value.message == "Unsupported config option for secrets.pw: 'path'"
    with pytest.raises(SchemaError) as e:
        load(tmp_path, """
            version: "3.8"
            services:
              web: {image: busybox, secrets: [{source: pw, owner: me}]}
            """)
    assert e.value.message == "Unsupported config option for services.web.secrets: 'owner'"


def test_uid_gid_mode_on_a_bind_are_warned_about():
    defs = {"secrets": {"pw": {"file": "/x"}}, "configs": {}}
    assert filerefs.warnings("web", {"secrets": [{"source": "pw", "mode": 0o400}]}, defs) == [
        'Service "web" uses secret "pw" with uid, gid, or mode. These fields are not supported by this '
        "implementation of the Compose file"]
    assert filerefs.warnings("web", {"secrets": ["pw"]}, defs) == []


def test_override_files_merge_secrets_by_name(tmp_path):
    (tmp_path / "docker-compose.override.yml").write_text(textwrap.dedent("""
        version: "3.8"
        services:
          web:
            secrets: [{source: pw, target: renamed}]
        """))
    p = load(tmp_path, """
        version: "3.8"
        services:
          web: {image: busybox, secrets: [pw]}
        secrets:
          pw: {file: ./pw.txt}
        """)
    assert p.services["web"]["secrets"] == [{"source": "pw", "target": "renamed"}]
