"""`docker top`: run ps on the host and keep the rows of the container's processes (pure parsing)."""

from __future__ import annotations

from skiff.common.errors import SystemError_


def parse_ps(output: str, pids: set[int]) -> dict:
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return {"Titles": [], "Processes": []}
    titles = lines[0].split()
    try:
        pid_col = titles.index("PID")
    except ValueError:
        raise SystemError_("Couldn't find PID field in ps output") from None
    procs = []
    for line in lines[1:]:
        fields = line.split(None, len(titles) - 1)
        if len(fields) <= pid_col:
            continue
        try:
            pid = int(fields[pid_col])
        except ValueError:
            continue
        if pid in pids:
            procs.append(fields)
    return {"Titles": titles, "Processes": procs}
