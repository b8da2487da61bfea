"""`kubectl api-resources` and `kubectl api-versions`."""

from __future__ import annotations

import sys

from skiff.cli.kubectl import options, printers
from skiff.cli.kubectl.session import CommandError, Session
from skiff.cluster.client import discovery
from skiff.cluster.client.paths import Resource


def api_resource_rows(resources: list[Resource], wide: bool = False, namespaced: bool | None = None,
                      group: str | None = None, verbs: list[str] | None = None, sort_by: str = "",
                      headers: bool = True) -> list[list[str]]:
    """The table `kubectl api-resources` prints: preferred versions, core first. Pure."""
    chosen = [r for r in discovery.preferred(resources)
              if (namespaced is None or r.namespaced == namespaced) and (group is None or r.group == group)
              and all(v in r.verbs for v in verbs or [])]
    chosen.sort(key=lambda r: (r.group != "", r.group, r.plural))
    if sort_by == "name":
        chosen.sort(key=lambda r: r.plural)
    elif sort_by == "kind":
        chosen.sort(key=lambda r: r.kind)
    rows = [["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"] + (["VERBS", "CATEGORIES"] if wide else [])] if headers else []
    for r in chosen:
        row = [r.plural, ",".join(r.short_names), r.group_version, "true" if r.namespaced else "false", r.kind]
        if wide:
            row += [",".join(sorted(r.verbs)), ",".join(r.categories)]
        rows.append(row)
    return rows


def run(word: str, argv: list[str]) -> int:
    if word == "api-versions":
        p = options.parser("api-versions", 'Print the supported API versions on the server, in the form of "group/version".')
        opts = p.parse_intermixed_args(argv)
        session = Session(opts)
        sys.stdout.write("".join(v + "\n" for v in discovery.api_versions(session.fresh_resources())))
        return 0
    p = options.parser("api-resources", "Print the supported API resources on the server.")
    options.add_output(p)
    p.add_argument("--namespaced", default=None, help="If false, non-namespaced resources will be returned.")
    p.add_argument("--api-group", default=None, help="Limit to resources in the specified API group.")
    p.add_argument("--verbs", action="append", default=[], help="Limit to resources that support the specified verbs.")
    p.add_argument("--sort-by", default="", choices=("", "name", "kind"), help="If non-empty, sort list of resources using specified field.")
    p.add_argument("--no-headers", action="store_true", help="When using the default or custom-column output format, don't print headers.")
    p.add_argument("--cached", action="store_true", help="Use the cached list of resources if available.")
    opts = p.parse_intermixed_args(argv)
    if opts.output not in ("", "wide", "name"):
        raise CommandError(f'--output {opts.output} is not available')
    session = Session(opts)
    namespaced = None if opts.namespaced is None else options.parse_bool(opts.namespaced)
    rows = api_resource_rows(session.resources if opts.cached else session.fresh_resources(), opts.output == "wide", namespaced, opts.api_group,
                             options.split_csv(opts.verbs), opts.sort_by, headers=not opts.no_headers and opts.output != "name")
    if opts.output == "name":
        sys.stdout.write("".join((f"{r[0]}.{r[2].rpartition('/')[0]}" if "/" in r[2] else r[0]) + "\n" for r in rows))
    else:
        sys.stdout.write(printers.align(rows))
    return 0
