from skiff.cli.commands.container_info import port_lines
from skiff.cli.formatter import render_list, tabwrite
from skiff.cli.psformat import (
    IMAGE_TITLES,
    PS_TITLES,
    PsRow,
    default_images_format,
    default_ps_format,
    display_ports,
    ellipsis,
    go_quote,
    image_rows,
)

NOW = 1_700_000_000.0
CONTAINER = {
    "Id": "18b8a0d7abd8f83fdd7aa66aa909f556dc88efdfb2fde4e66b2c09a4be248afc",
    "Names": ["/web", "/other/alias"], "Image": "busybox", "ImageID": "sha256:" + "a" * 64,
    "Command": "sh -c 'while true; do sleep 1; done'", "Created": NOW - 125,
    "Ports": [{"PrivatePort": 80, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"},
              {"PrivatePort": 443, "Type": "tcp"}],
    "Labels": {"a": "1"}, "State": "running", "Status": "Up 2 minutes",
    "SizeRw": 12, "SizeRootFs": 1986000,
    "Mounts": [{"Name": "averyveryverylongvolumename", "Driver": "local"}],
    "NetworkSettings": {"Networks": {"none": {}}},
}


def test_tabwrite_matches_docker_spacing():
    out = tabwrite(["CONTAINER ID\tIMAGE\tNAMES", "18b8a0d7abd8\tbusybox\tt1"])
    assert out.splitlines() == ["CONTAINER ID   IMAGE     NAMES", "18b8a0d7abd8   busybox   t1"]


def test_ps_default_table():
    row = PsRow(CONTAINER, now=NOW)
    text = render_list(default_ps_format(False), [row], PS_TITLES)
    header, line = text.splitlines()
    assert header.split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
    assert line.startswith("18b8a0d7abd8   busybox   ")
    assert '"sh -c \'while true; …"' in line
    assert "2 minutes ago" in line and "0.0.0.0:8080->80/tcp, 443/tcp" in line
    assert line.endswith("web")


def test_ps_fields():
    row = PsRow(CONTAINER, now=NOW)
    assert row.Names == "web"
    assert PsRow(CONTAINER, trunc=False).Names == "web,other/alias"
    assert row.Size == "12B (virtual 1.99MB)"
    assert row.Labels == "a=1" and row.Label("a") == "1"
    assert row.Mounts == "averyveryveryl…" and row.LocalVolumes == "1" and row.Networks == "none"
    assert render_list("{{.ID}}", [row], PS_TITLES) == "18b8a0d7abd8\n"
    assert render_list("table {{.Names}}\\t{{.State}}", [], PS_TITLES) == "NAMES     STATE\n"
    js = render_list("json", [row], PS_TITLES)
    assert js.startswith('{"Command":') and '"Names":"web"' in js


def test_image_rows_and_table():
    img = {"Id": "sha256:" + "b" * 64, "RepoTags": ["busybox:latest", "busybox:1", "me/bb:x"],
           "RepoDigests": ["busybox@sha256:" + "c" * 64], "Created": NOW - 3 * 86400, "Size": 4261552}
    rows = image_rows([img], digests=False, now=NOW)
    assert [(r.Repository, r.Tag, r.Digest) for r in rows] == [
        ("busybox", "latest", "<none>"), ("busybox", "1", "<none>"), ("me/bb", "x", "<none>")]
    rows = image_rows([img], digests=True, now=NOW)
    assert rows[0].Digest == "sha256:" + "c" * 64
    dangling = image_rows([{"Id": "sha256:" + "d" * 64, "RepoTags": [], "Created": NOW, "Size": 1}], False)
    assert (dangling[0].Repository, dangling[0].Tag) == ("<none>", "<none>")
    text = render_list(default_images_format(False), image_rows([img], False, now=NOW), IMAGE_TITLES)
    lines = text.splitlines()
    assert lines[0] == "REPOSITORY   TAG       IMAGE ID       CREATED      SIZE"
    assert lines[1] == "busybox      latest    bbbbbbbbbbbb   3 days ago   4.26MB"


def test_small_helpers():
    assert ellipsis("abcdef", 4) == "abc…" and ellipsis("abc", 4) == "abc"
    assert go_quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert display_ports([{"PrivatePort": 53, "Type": "udp", "PublicPort": 53, "IP": "::"}]) == "[::]:53->53/udp"
    ports = {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "53/udp": None}
    assert port_lines(ports, None) == ["80/tcp -> 0.0.0.0:8080"]
    assert port_lines(ports, "80") == ["0.0.0.0:8080"]
    assert port_lines(ports, "81") == []


def test_table_header_for_method_fields():
    row = PsRow(CONTAINER, now=NOW)
    text = render_list('table {{.Names}}\t{{.Label "a"}}', [row], PS_TITLES)
    assert text.splitlines() == ["NAMES     LABEL", "web       1"]
