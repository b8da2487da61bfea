"""The pure parts of bench/: statistics, smaps_rollup parsing, and the doc section writer."""

import pytest
from bench.procmem import Memory, parse_smaps_rollup
from bench.profiles import frame_name, parse_collapsed, parse_importtime, parse_strace, top_level_packages
from bench.report import arg_parser, begin, end, publish, replace_section, table
from bench.stats import percentile, ratio, summarize, verdict

SMAPS = """\
55d0c0a00000-7ffd1d5fe000 ---p 00000000 00:00 0                          [rollup]
Rss:               12340 kB
Pss:                5000 kB
Pss_Anon:           3000 kB
Shared_Clean:       6000 kB
Shared_Dirty:        340 kB
Private_Clean:      1000 kB
Private_Dirty:      5000 kB
Swap:                  0 kB
"""


def test_percentile_interpolates_between_ranks():
    samples = [4.0, 1.0, 3.0, 2.0]
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(list(range(1, 11)), 90) == pytest.approx(9.1)


def test_percentile_of_one_sample_and_of_none():
    assert percentile([7.0], 90) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_summary_fields():
    s = summarize([3.0, 1.0, 2.0])
    assert (s.n, s.median, s.mean, s.low, s.high) == (3, 2.0, 2.0, 1.0, 3.0)


def test_ratio_and_verdict():
    assert ratio(1.0, 4.0) == 0.25
    assert verdict(1.0, 5.0, 0.2) == "met"
    assert verdict(1.1, 5.0, 0.2) == "missed"
    with pytest.raises(ValueError):
        ratio(1.0, 0.0)


def test_parse_smaps_rollup_in_bytes():
    m = parse_smaps_rollup(SMAPS)
    assert m == Memory(rss=12340 * 1024, pss=5000 * 1024, uss=6000 * 1024)
    assert m + m == Memory(rss=2 * 12340 * 1024, pss=2 * 5000 * 1024, uss=2 * 6000 * 1024)
    assert parse_smaps_rollup("") == Memory()


def test_replace_section_appends_then_replaces_only_its_own():
    doc = replace_section("", "a", "first A")
    assert doc.startswith("# Benchmarks")
    doc = replace_section(doc, "b", "only B")
    doc = replace_section(doc, "a", "second A")
    assert "first A" not in doc and "second A" in doc and "only B" in doc
    assert doc.count(begin("a")) == 1 and doc.count(end("a")) == 1
    assert doc.index("second A") < doc.index("only B")  # a section keeps its place


def test_replace_section_keeps_backslashes_literal():
    doc = replace_section("# x\n", "a", r"path C:\new \1")
    assert r"path C:\new \1" in doc


def test_table_markdown():
    assert table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"


RAW = """\
process 10:"python -m skiff engine";<module> (/r/src/skiff/engine/daemon.py:5);serve (/r/src/skiff/engine/daemon.py:9) 30
process 10:"python -m skiff engine";<module> (/r/src/skiff/engine/daemon.py:5);create (/r/src/skiff/engine/api/containers.py:7);dumps (/v/lib/python3.11/json/__init__.py:231) 10
process 10:"x";process 11:"x";<module> (/r/src/skiff/engine/daemon.py:5);init (/r/src/skiff/engine/runtime/init.py:3) 5
garbage line
"""


def test_parse_collapsed_aggregates_inclusive_and_self():
    prof = parse_collapsed(RAW, strip_prefix="/r/src/")
    assert prof.total == 45
    assert prof.in_child == 5
    assert prof.inclusive["<module> (skiff/engine/daemon.py)"] == 45
    assert prof.inclusive["create (skiff/engine/api/containers.py)"] == 10
    assert prof.self_["dumps (stdlib:json/__init__.py)"] == 10
    assert prof.self_["serve (skiff/engine/daemon.py)"] == 30


def test_parse_collapsed_leaves_waiting_stacks_out():
    prof = parse_collapsed(RAW, strip_prefix="/r/src/", waiting=frozenset({"create (skiff/engine/api/containers.py)"}))
    assert prof.total == 35 and "create (skiff/engine/api/containers.py)" not in prof.inclusive


def test_frame_name_shortens_paths():
    assert frame_name("f (/v/lib/python3.11/site-packages/aiohttp/web.py:3)") == "f (aiohttp/web.py)"
    assert frame_name("not a frame") == "not a frame"


def test_parse_importtime_depth_and_packages():
    text = ("import time: self [us] | cumulative | imported package\n"
            "import time:       492 |        729 |     json.scanner\n"
            "import time:       530 |       8936 |   json.decoder\n"
            "import time:       329 |       9755 | json\n"
            "import time:       100 |        200 | skiff.cli\n"
            "import time:        50 |         50 | skiff\n")
    entries = parse_importtime(text)
    assert [(e.name, e.depth) for e in entries] == [("json.scanner", 2), ("json.decoder", 1), ("json", 0),
                                                     ("skiff.cli", 0), ("skiff", 0)]
    assert top_level_packages(entries) == {"json": 9755, "skiff": 250}


STRACE = """\
17229 15:55:36.600823 openat(AT_FDCWD, "/sys/fs/cgroup/cpu/x/cgroup.procs", O_WRONLY|O_CLOEXEC) = 19 <0.000038>
17229 15:55:36.600900 write(19, "0", 1) = 1 <0.016627>
17229 15:55:36.617823 write(19, "0", 1) = 1 <0.000024>
17230 15:55:36.617900 epoll_wait(4, [], 2, -1) = 0 <1.002500>
17230 15:55:36.618000 mount("overlay", "/x", "overlay", 0, "lowerdir=...") = 0 <0.003000>
17231 15:55:36.618000 +++ exited with 0 +++
"""


def test_parse_strace_totals_skip_waiting_and_name_fds():
    prof = parse_strace(STRACE, slow_s=0.002)
    assert prof.calls == {"openat": 1, "write": 2, "mount": 1}
    assert prof.seconds["write"] == pytest.approx(0.016651)
    assert "epoll_wait" not in prof.seconds
    assert prof.slow[0] == (0.016627, "write /sys/fs/cgroup/cpu/x/cgroup.procs")
    assert prof.slow[1][1].startswith('mount "overlay"')


@pytest.mark.parametrize("argv, written", [([], True), (["--no-doc"], False), (["--reference-only"], False)])
def test_publish_prints_and_writes_the_doc_only_for_a_full_measured_run(tmp_path, capsys, argv, written):
    doc = tmp_path / "benchmarks.md"
    args = arg_parser("a bench").parse_args(argv)
    publish("x", "body of x", args, doc)
    assert "body of x" in capsys.readouterr().out
    assert doc.exists() == written
    if written:
        assert begin("x") in doc.read_text()


def test_arg_parser_without_reference_only():
    assert not hasattr(arg_parser(None, reference_only=False).parse_args([]), "reference_only")
