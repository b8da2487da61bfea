"""`system df -v` renders docker's verbose report; the expected text is docker 28's own output
for the same /system/df answer (a busybox image, one created container using volume `data`)."""

from skiff.cli.dfformat import verbose_report

NOW = 1700000000 + 3.1 * 365 * 86400
DATA = {
    "Images": [{"Id": "sha256:a93da448647ab06d69864ccc3936d694b5e1164ceb977b4a6e5f434f675020d3",
                "RepoTags": ["busybox:latest"], "RepoDigests": [], "Created": 1700000000, "Size": 1986000,
                "SharedSize": 0, "Containers": 1}],
    "Containers": [{"Id": "42ffd8b498e8b2ca65cf9d420b96b81352bab674c97562b93d9791768a4b366d", "Names": ["/c1"],
                    "Image": "busybox", "Command": "sleep 60", "Created": NOW - 0.2,
                    "Mounts": [{"Type": "volume", "Name": "data", "Driver": "local"}], "SizeRw": 0,
                    "State": "created", "Status": "Created"}],
    "Volumes": [{"Name": "data", "Driver": "local", "UsageData": {"Size": 0, "RefCount": 1}}],
    "BuildCache": [],
}

DOCKER_28 = """\
Images space usage:

REPOSITORY   TAG       IMAGE ID       CREATED       SIZE      SHARED SIZE   UNIQUE SIZE   CONTAINERS
busybox      latest    a93da448647a   3 years ago   1.99MB    0B            1.986MB       1

Containers space usage:

CONTAINER ID   IMAGE     COMMAND      LOCAL VOLUMES   SIZE      CREATED                  STATUS    NAMES
42ffd8b498e8   busybox   "sleep 60"   1               0B        Less than a second ago   Created   c1

Local Volumes space usage:

VOLUME NAME   LINKS     SIZE
data          1         0B

Build cache usage: 0B

CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED
"""


def test_verbose_report_is_dockers():
    assert verbose_report(DATA, NOW) == DOCKER_28


def test_empty_engine_prints_every_section_with_headers_only():
    text = verbose_report({}, NOW)
    assert text.count("space usage:") == 3 and "Build cache usage: 0B\n" in text
    assert "VOLUME NAME   LINKS     SIZE\n" in text


def test_volume_without_usage_data_is_na():
    text = verbose_report({"Volumes": [{"Name": "v1", "UsageData": None}]}, NOW)
    assert "v1            N/A       N/A\n" in text
