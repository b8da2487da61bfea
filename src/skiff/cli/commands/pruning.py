"""What every `prune` command shares: the confirmation prompt and the report it prints."""

from __future__ import annotations


def confirm(ctx, warning: str) -> bool:
    """Docker's prune prompt; anything but y/Y cancels."""
    import sys

    ctx.out.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    ctx.out.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def write_deleted(ctx, kind: str, ids: list[str] | None, blank_line: bool = True) -> None:
    """`Deleted Containers:` and one id a line, as prune prints them (nothing when none went)."""
    if ids:
        ctx.out.write(f"Deleted {kind}:\n" + "".join(i + "\n" for i in ids) + ("\n" if blank_line else ""))


def write_reclaimed(ctx, size: int | None) -> None:
    from skiff.cli.humanize import human_size

    ctx.out.write(f"Total reclaimed space: {human_size(size or 0)}\n")
