"""The runtime's /etc placeholders are recognised and left out of committed layers."""

from __future__ import annotations

import os

from skiff.engine.images.changes import overlay_changes
from skiff.engine.images.placeholders import placeholder_paths, without_placeholders


def _layers(tmp_path, lower_etc: bool = True):
    upper, lower = tmp_path / "upper", tmp_path / "lower"
    upper.mkdir()
    lower.mkdir()
    if lower_etc:
        (lower / "etc").mkdir()
        (lower / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\n")
        os.chmod(lower / "etc", 0o755)
    return upper, lower


def _placeholders(upper) -> None:
    (upper / "etc").mkdir(exist_ok=True)
    os.chmod(upper / "etc", 0o755)
    for name in ("hosts", "hostname", "resolv.conf"):
        (upper / "etc" / name).touch()


def test_empty_mount_points_and_copied_up_etc_are_placeholders(tmp_path):
    upper, lower = _layers(tmp_path)
    _placeholders(upper)
    (upper / "made-here").write_text("data\n")
    changes = list(overlay_changes(str(upper), [str(lower)]))
    assert placeholder_paths(changes, [str(lower)]) == {"/etc", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
    assert [c.path for c in without_placeholders(changes, [str(lower)])] == ["/made-here"]


def test_an_etc_made_only_for_the_placeholders_goes_too(tmp_path):
    upper, lower = _layers(tmp_path, lower_etc=False)
    _placeholders(upper)
    changes = list(overlay_changes(str(upper), [str(lower)]))
    assert without_placeholders(changes, [str(lower)]) == []


def test_files_with_content_and_other_etc_changes_are_kept(tmp_path):
    upper, lower = _layers(tmp_path)
    _placeholders(upper)
    (upper / "etc" / "hosts").write_text("10.0.0.1 db\n")  # written by the user: part of the image
    (upper / "etc" / "motd").write_text("hi\n")
    changes = list(overlay_changes(str(upper), [str(lower)]))
    kept = [c.path for c in without_placeholders(changes, [str(lower)])]
    assert kept == ["/etc", "/etc/hosts", "/etc/motd"]


def test_a_changed_etc_mode_is_kept(tmp_path):
    upper, lower = _layers(tmp_path)
    _placeholders(upper)
    os.chmod(upper / "etc", 0o700)
    changes = list(overlay_changes(str(upper), [str(lower)]))
    assert [c.path for c in without_placeholders(changes, [str(lower)])] == ["/etc"]


def test_mount_points_in_the_image_are_not_placeholders(tmp_path):
    upper, lower = _layers(tmp_path)
    (lower / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    (upper / "etc").mkdir()
    os.chmod(upper / "etc", 0o755)
    (upper / "etc" / "hosts").touch()  # emptied by the user: a modification, kept
    changes = list(overlay_changes(str(upper), [str(lower)]))
    assert placeholder_paths(changes, [str(lower)]) == set()
