"""From the rules we have to the rules we want: one `iptables-restore --noflush` batch (pure).

Only the proxy's own chains are ever written. A full sync declares every chain we want (which
empties it) and deletes every chain of our prefix that `iptables-save` shows and we no longer
want (a crashed agent's leftovers included). A partial sync, kube-proxy's idea, rewrites only the
chains whose rules changed and deletes the ones that went: one more service costs a few chains,
not the whole table. Per table: chain declarations first, then rules, then deletions, so a jump
never names a chain not yet declared and a deleted chain is no longer referenced."""

from __future__ import annotations

from skiff.cluster.proxy.rules import ChainKey, Ruleset
from skiff.engine.network.iptables import Chains, parse_save

TABLES = ("filter", "nat")


def existing_chains(chains: Chains, saved: str) -> set[ChainKey]:
    """Our chains in `iptables-save` output."""
    declared, _ = parse_save(saved)
    return {(table, name) for table, names in declared.items() for name in names if chains.owns(name)}


def diff(have: Ruleset | None, want: Ruleset, present: set[ChainKey] | None = None) -> tuple[Ruleset, list[ChainKey]]:
    """(chains to write, chains to delete). `have` None means unknown: write everything, and delete
    whatever of `present` (our chains found on the host) is not wanted."""
    if have is None:
        gone = sorted((present or set()) - set(want))
        return dict(want), gone
    changed = {key: rules for key, rules in want.items() if have.get(key) != rules}
    gone = sorted(set(have) - set(want))
    return changed, gone


def restore_text(write: Ruleset, delete: list[ChainKey]) -> str:
    """The batch for `iptables-restore --noflush`; "" when there is nothing to do."""
    out: list[str] = []
    for table in TABLES:
        names = [c for t, c in write if t == table]
        stale = [c for t, c in delete if t == table]
        if not names and not stale:
            continue
        out.append(f"*{table}")
        out += [f":{c} - [0:0]" for c in names + stale]  # declaring empties; a stale chain must be empty to go
        for (t, _), rules in write.items():
            if t == table:
                out += [r.line("-A") for r in rules]
        out += [f"-X {c}" for c in stale]
        out.append("COMMIT")
    return "\n".join(out) + "\n" if out else ""
