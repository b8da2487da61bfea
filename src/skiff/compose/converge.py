"""What `up` does to one service, decided from the containers it has: create, recreate (when
its config hash changed, or forced), start, or remove the ones past the wanted scale. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from skiff.compose import model


@dataclass
class Existing:
    """A project container as the engine lists it."""

    id: str
    name: str
    service: str
    number: int
    oneoff: bool
    running: bool
    state: str
    config_hash: str
    image: str = ""
    command: str = ""
    status: str = ""
    ports: list | None = None

    @classmethod
    def from_summary(cls, c: dict) -> Existing:
        labels = c.get("Labels") or {}
        try:
            number = int(labels.get(model.LABEL_NUMBER, "0"))
        except ValueError:
            number = 0
        return cls(id=c["Id"], name=(c.get("Names") or ["/"])[0].lstrip("/"),
                   service=labels.get(model.LABEL_SERVICE, ""), number=number,
                   oneoff=labels.get(model.LABEL_ONEOFF, "False") == "True",
                   running=c.get("State") in ("running", "paused", "restarting"), state=c.get("State", ""),
                   config_hash=labels.get(model.LABEL_CONFIG_HASH, ""), image=c.get("Image", ""),
                   command=c.get("Command", ""), status=c.get("Status", ""), ports=c.get("Ports") or [])


@dataclass
class Action:
    verb: str  # create | recreate | start | keep | remove
    number: int
    container: Existing | None = None


def plan(existing: list[Existing], scale: int, config_hash: str, *, force_recreate: bool = False,
         no_recreate: bool = False, start: bool = True) -> list[Action]:
    """Actions in the order to run them: the kept containers (lowest numbers) first, then new
    ones, then removals of the highest numbers past `scale`."""
    mine = sorted((c for c in existing if not c.oneoff), key=lambda c: c.number)
    keep, extra = mine[:scale], mine[scale:]
    actions: list[Action] = []
    for c in keep:
        stale = c.config_hash != config_hash
        if force_recreate or (stale and not no_recreate):
            actions.append(Action("recreate", c.number, c))
        elif not c.running and start:
            actions.append(Action("start", c.number, c))
        else:
            actions.append(Action("keep", c.number, c))
    taken = {c.number for c in mine}
    n = 1
    while len(actions) < scale:
        while n in taken:
            n += 1
        actions.append(Action("create", n))
        taken.add(n)
    actions += [Action("remove", c.number, c) for c in reversed(extra)]
    return actions


def next_number(existing: list[Existing]) -> int:
    return max((c.number for c in existing), default=0) + 1
