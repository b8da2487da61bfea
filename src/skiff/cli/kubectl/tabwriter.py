"""Go's text/tabwriter, which kubectl's describe output goes through. Pure.

Cells are tab-terminated; a column's width is set per *block* of consecutive lines that have
a cell in that column, so alignment restarts after a line with fewer cells, as in Go.
"""

from __future__ import annotations


def tabwrite(text: str, minwidth: int = 0, padding: int = 2) -> str:
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []

    def write_lines(line0: int, line1: int, widths: list[int]) -> None:
        for row in lines[line0:line1]:
            parts = []
            for j, cell in enumerate(row):
                if j < len(widths) and j < len(row) - 1:
                    parts.append(cell.ljust(widths[j]))
                else:
                    parts.append(cell)
            out.append("".join(parts))

    def fmt(line0: int, line1: int, widths: list[int]) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this, widths)
            line0 = this
            width = minwidth
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, len(lines[this][column]) + padding)
                this += 1
            fmt(line0, this, widths + [width])
            line0 = this
        write_lines(line0, line1, widths)

    fmt(0, len(lines), [])
    return "\n".join(out)


def human_duration(seconds: float) -> str:
    """Kubernetes' duration.HumanDuration: `45s`, `3m12s`, `4h5m`, `2d3h`, `1y20d`."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"
