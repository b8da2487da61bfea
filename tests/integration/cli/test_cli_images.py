"""`skiff` image, volume and system commands against a real engine."""

import json
import secrets

import pytest

pytestmark = pytest.mark.root


def out(proc) -> str:
    return proc.stdout.decode()


def test_images_table_and_formats(engine):
    p = engine.skiff("images")
    lines = out(p).splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    row = next(line for line in lines if line.startswith("busybox "))
    assert row.split()[1] == "latest"
    image_id = json.loads(out(engine.skiff("image", "inspect", "busybox")))[0]["Id"]
    assert image_id[7:19] in row
    assert image_id[7:19] in out(engine.skiff("images", "-q")).split()
    assert "busybox:latest" in out(engine.skiff("images", "--format", "{{.Repository}}:{{.Tag}}")).split()
    rows = [json.loads(line) for line in out(engine.skiff("images", "--format", "json")).splitlines()]
    assert any(r["Repository"] == "busybox" and r["Size"].endswith("B") for r in rows)


def test_tag_and_rmi(engine):
    tag = "cli-tag-" + secrets.token_hex(3)
    assert engine.skiff("tag", "busybox", f"{tag}:v1").returncode == 0
    assert f"{tag}   v1" in out(engine.skiff("images", tag))
    p = engine.skiff("rmi", f"{tag}:v1")
    assert out(p) == f"Untagged: {tag}:v1\n"
    p = engine.skiff("rmi", f"{tag}:v1")
    assert p.returncode == 1 and p.stderr.decode().startswith("Error response from daemon: ")


def test_save_load_round_trip(engine, tmp_path):
    tag = "cli-save-" + secrets.token_hex(3)
    engine.skiff("tag", "busybox", f"{tag}:latest")
    archive = tmp_path / "img.tar"
    p = engine.skiff("save", "-o", str(archive), f"{tag}:latest")
    assert p.returncode == 0, p.stderr
    assert archive.stat().st_size > 100_000
    engine.skiff("rmi", f"{tag}:latest")
    p = engine.skiff("load", "-i", str(archive))
    assert p.returncode == 0, p.stderr
    assert out(p) == f"Loaded image: {tag}:latest\n"
    engine.skiff("rmi", f"{tag}:latest")


def test_history(engine):
    p = engine.skiff("history", "busybox")
    assert p.returncode == 0
    assert out(p).splitlines()[0].split() == ["IMAGE", "CREATED", "CREATED", "BY", "SIZE", "COMMENT"]


def test_volumes(engine):
    name = "cli-vol-" + secrets.token_hex(3)
    assert out(engine.skiff("volume", "create", name)) == name + "\n"
    assert name in out(engine.skiff("volume", "ls", "-q")).split()
    ls = out(engine.skiff("volume", "ls")).splitlines()
    assert ls[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert out(engine.skiff("volume", "inspect", "-f", "{{.Name}} {{.Driver}}", name)) == f"{name} local\n"
    assert out(engine.skiff("volume", "rm", name)) == name + "\n"
    assert engine.skiff("volume", "inspect", name).returncode == 1


def test_version_and_info(engine):
    p = engine.skiff("version")
    assert p.returncode == 0
    assert out(p).startswith("Client:\n Version:")
    assert "Server:" in out(p)
    assert out(engine.skiff("version", "--format", "{{.Server.ApiVersion}}")).strip()
    p = engine.skiff("info", "--format", "{{json .Images}}")
    assert p.returncode == 0 and int(out(p)) >= 1


def test_help_and_unknown_command(engine):
    p = engine.skiff("run", "--help")
    assert p.returncode == 0
    assert out(p).startswith("Usage:  skiff run [OPTIONS] IMAGE [COMMAND] [ARG...]\n")
    assert "  -d, --detach " in out(p)
    p = engine.skiff("frobnicate")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("skiff: unknown command: skiff frobnicate")
    p = engine.skiff("logs")
    assert p.returncode == 1
    assert p.stderr.decode().startswith("skiff: 'skiff logs' requires 1 argument")
