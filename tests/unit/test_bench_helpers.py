"""The pure parts of bench/: statistics, smaps_rollup parsing, and the doc section writer."""

import pytest
from bench.procmem import Memory, parse_smaps_rollup
from bench.report import begin, end, replace_section, table
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
