"""--rm containers' overlays are mounted `volatile`; the marker of an earlier mount is cleared."""

from skiff.engine.containers.bundle import volatile
from skiff.engine.snapshots.base import Mount


def test_overlay_gets_volatile_and_loses_an_old_marker(tmp_path):
    work = tmp_path / "work"
    (work / "work" / "incompat" / "volatile").mkdir(parents=True)
    (work / "work" / "incompat" / "volatile" / "dirty").write_text("")
    m = Mount("overlay", "overlay", ["lowerdir=/l", f"upperdir={tmp_path}/fs", f"workdir={work}"])
    (out,) = volatile([m])
    assert out.options == [*m.options, "volatile"] and m.options[-1] != "volatile"
    assert (work / "work").is_dir() and not (work / "work" / "incompat").exists()


def test_binds_and_already_volatile_mounts_are_left_alone():
    bind = Mount("bind", "/snap/1/fs", ["rbind", "rw"])
    vol = Mount("overlay", "overlay", ["lowerdir=/l", "upperdir=/u", "workdir=/w", "volatile"])
    assert volatile([bind, vol]) == [bind, vol]
