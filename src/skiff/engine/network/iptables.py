"""iptables for one engine instance: its chains, rules as data, and a batch applier.

Every chain the engine owns is named `<prefix>-<ROLE>` and reached by one jump from a
built-in chain, so two engines with different prefixes never touch each other's rules and
a crash leaves nothing that the next start's `teardown` cannot find in `iptables-save`.

Rules are applied with `iptables-restore --noflush` in one batch: declaring a user chain
(`:NAME - [0:0]`) there creates it or empties it, so `set_chains` replaces whole chains
atomically. The text rendering is pure (`render_*`), the I/O is in `Iptables`.

Chains (table, name):
- filter `<P>-FORWARD`   jumped from FORWARD: isolation, established, per-bridge policy
- filter `<P>-ISOLATION` / `<P>-ISOLATION2`: traffic between two different engine bridges drops
- nat    `<P>-POSTROUTING` jumped from POSTROUTING: MASQUERADE of outbound traffic
Port publishing keeps its own chains (`<P>-DNAT`, `<P>-HAIRPIN`, `<P>-PORTS`, see
`ports_rules.py`) and may apply its batches through `Iptables.restore`.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from skiff.common.errors import SkiffError

BUILTIN = {"INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING"}


def _quote(arg: str) -> str:
    """iptables-restore's quoting: double quotes around an argument with blanks, nothing else."""
    if arg and not any(ch.isspace() or ch == '"' for ch in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Rule:
    """One rule: `-A <chain> <args>` in `table`. `args` are iptables arguments, one per item."""

    table: str
    chain: str
    args: tuple[str, ...]

    def line(self, verb: str = "-A") -> str:
        return " ".join([verb, self.chain, *(_quote(a) for a in self.args)])


@dataclass(frozen=True)
class Chains:
    """The names of one instance's chains."""

    prefix: str

    @property
    def forward(self) -> str:
        return f"{self.prefix}-FORWARD"

    @property
    def isolation(self) -> str:
        return f"{self.prefix}-ISOLATION"

    @property
    def isolation2(self) -> str:
        return f"{self.prefix}-ISOLATION2"

    @property
    def postrouting(self) -> str:
        return f"{self.prefix}-POSTROUTING"

    def all(self) -> list[tuple[str, str]]:
        return [("filter", self.forward), ("filter", self.isolation), ("filter", self.isolation2),
                ("nat", self.postrouting)]

    def jumps(self) -> list[Rule]:
        """The rules in built-in chains that lead into ours (inserted first in their chain)."""
        return [
            Rule("filter", "FORWARD", ("-j", self.forward)),
            Rule("nat", "POSTROUTING", ("-j", self.postrouting)),
        ]

    def owns(self, chain: str) -> bool:
        return chain in {name for _, name in self.all()}


@dataclass(frozen=True)
class SavedRule:
    table: str
    chain: str
    args: list[str]


def parse_save(text: str) -> tuple[dict[str, list[str]], list[SavedRule]]:
    """`iptables-save` output → (chains declared per table, every `-A` rule)."""
    chains: dict[str, list[str]] = {}
    rules: list[SavedRule] = []
    table = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
            chains.setdefault(table, [])
        elif line.startswith(":") and table:
            chains[table].append(line[1:].split()[0])
        elif line.startswith("-A ") and table:
            parts = shlex.split(line)
            rules.append(SavedRule(table, parts[1], parts[2:]))
    return chains, rules


def _group(lines: Iterable[tuple[str, str]]) -> str:
    """(table, line) pairs → restore text, one `*table ... COMMIT` block per table, order kept."""
    tables: dict[str, list[str]] = {}
    for table, line in lines:
        tables.setdefault(table, []).append(line)
    out: list[str] = []
    for table, body in tables.items():
        out += [f"*{table}", *body, "COMMIT"]
    return "\n".join(out) + "\n" if out else ""


def render_setup(chains: Chains, saved: str) -> str:
    """Declare missing chains (existing ones keep their rules) and insert missing jumps."""
    declared, rules = parse_save(saved)
    lines: list[tuple[str, str]] = []
    for table, name in chains.all():
        if name not in declared.get(table, []):
            lines.append((table, f":{name} - [0:0]"))
    present = {(r.table, r.chain, tuple(r.args)) for r in rules}
    for jump in chains.jumps():
        if (jump.table, jump.chain, jump.args) not in present:
            lines.append((jump.table, jump.line("-I")))
    return _group(lines)


def render_teardown(chains: Chains, saved: str) -> str:
    """Delete the jumps into our chains, then empty and delete the chains themselves."""
    declared, rules = parse_save(saved)
    lines: list[tuple[str, str]] = []
    for r in rules:
        if r.chain in BUILTIN and any(chains.owns(a) for a in r.args):
            lines.append((r.table, Rule(r.table, r.chain, tuple(r.args)).line("-D")))
    ours = [(t, c) for t, names in declared.items() for c in names if chains.owns(c)]
    lines += [(t, f"-F {c}") for t, c in ours]
    lines += [(t, f"-X {c}") for t, c in ours]
    return _group(lines)


def render_chains(contents: dict[tuple[str, str], list[Rule]]) -> str:
    """Replace each given chain's rules by the listed ones (the chain is declared, hence emptied)."""
    lines: list[tuple[str, str]] = []
    for (table, chain), rules in contents.items():
        lines.append((table, f":{chain} - [0:0]"))
        lines += [(table, r.line("-A")) for r in rules]
    return _group(lines)


def render_changes(add: Iterable[Rule] = (), delete: Iterable[Rule] = ()) -> str:
    """Incremental edits: `-D` each rule of `delete` (which must exist), `-A` each of `add`."""
    lines = [(r.table, r.line("-D")) for r in delete] + [(r.table, r.line("-A")) for r in add]
    return _group(lines)


class IptablesError(SkiffError):
    status = 500


def _run(args: list[str], stdin: str | None = None) -> str:
    try:
        r = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise IptablesError(f"{args[0]} not found: install iptables, or start the engine with --iptables=false") \
            from None
    if r.returncode != 0:
        raise IptablesError(f"{' '.join(args)} failed: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


class Iptables:
    """Applies an instance's rules. With `enabled=False` every call is a no-op (`--iptables=false`)."""

    def __init__(self, prefix: str, enabled: bool = True):
        self.chains = Chains(prefix)
        self.enabled = enabled

    def save(self) -> str:
        return _run(["iptables-save"]) if self.enabled else ""

    def restore(self, text: str) -> None:
        if self.enabled and text:
            _run(["iptables-restore", "--noflush", "-w"], text)

    def setup(self) -> None:
        """Create our chains and jumps if missing (idempotent)."""
        if self.enabled:
            self.restore(render_setup(self.chains, self.save()))

    def teardown(self) -> None:
        """Remove every chain of this prefix and the jumps to them, whatever state a crash left."""
        if self.enabled:
            self.restore(render_teardown(self.chains, self.save()))

    def set_chains(self, contents: dict[tuple[str, str], list[Rule]]) -> None:
        self.restore(render_chains(contents))

    def change(self, add: Iterable[Rule] = (), delete: Iterable[Rule] = ()) -> None:
        self.restore(render_changes(add, delete))
