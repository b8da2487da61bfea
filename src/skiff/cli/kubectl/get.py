"""`kubectl get`: server-side tables, -o json|yaml|name|wide|jsonpath|custom-columns, --watch."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl import options, printers, targets
from skiff.cli.kubectl.session import CommandError, Session, server_error_text
from skiff.cluster.client.errors import StatusError
from skiff.cluster.client.rest import TABLE

HELP = """Display one or many resources.

Examples:
  kubectl get pods
  kubectl get pods -o wide --show-labels
  kubectl get rc,services
  kubectl get deploy/front -o jsonpath='{.spec.replicas}'
  kubectl get pods -A -l app=web -w"""


def build_parser() -> options.Parser:
    p = options.parser("get", HELP)
    p.add_argument("words", nargs="*", metavar="TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE/NAME ...")
    options.add_output(p)
    options.add_selector(p)
    options.add_filename(p, "identifying the resource to get from a server.")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="List the requested object(s) across all namespaces.")
    p.add_argument("-w", "--watch", action="store_true", help="After listing/getting the requested object, watch for changes.")
    p.add_argument("--watch-only", action="store_true", help="Watch for changes to the requested object(s), without listing/getting first.")
    p.add_argument("--output-watch-events", action="store_true", help="Output watch event objects when --watch or --watch-only is used.")
    p.add_argument("--show-labels", action="store_true", help="When printing, show all labels as the last column.")
    p.add_argument("-L", "--label-columns", action="append", default=[], help="Labels to present as columns.")
    p.add_argument("--no-headers", action="store_true", help="When using the default or custom-column output format, don't print headers.")
    p.add_argument("--ignore-not-found", action="store_true", help="If the requested object does not exist the command will return exit code 0.")
    p.add_argument("--chunk-size", type=int, default=500, help="Return large lists in chunks rather than all at once.")
    p.add_argument("--show-managed-fields", action="store_true", help="If true, keep the managedFields when printing objects in JSON or YAML format.")
    p.add_argument("--raw", help="Raw URI to request from the server.")
    return p


class Output:
    """How the objects are printed: a table from the server, or one of the object formats."""

    def __init__(self, spec: str, opts: Any):
        self.spec = spec
        self.kind, _, self.arg = spec.partition("=")
        if self.kind not in ("", "wide", "json", "yaml", "name", "jsonpath", "custom-columns", "go-template"):
            raise CommandError(f'unable to match a printer suitable for the output format "{spec}", allowed formats are: '
                               "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
                               "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")
        if self.kind == "go-template":
            raise CommandError("go-template output is not supported by skiff kubectl; use -o jsonpath")
        self.opts = opts

    @property
    def table(self) -> bool:
        return self.kind in ("", "wide")

    def objects(self, objs: list[dict[str, Any]], single: bool) -> str:
        if not self.opts.show_managed_fields and self.kind in ("json", "yaml"):
            objs = [printers.without_managed_fields(o) for o in objs]
        data: Any = objs[0] if single and len(objs) == 1 else printers.as_list(objs)
        if self.kind == "json":
            return printers.to_json(data)
        if self.kind == "yaml":
            return printers.to_yaml(data)
        if self.kind == "jsonpath":
            from skiff.cli.kubectl.jsonpath import JSONPathError, render

            template = self.arg.strip("'")
            try:
                return render(template, data)
            except JSONPathError as e:
                raise CommandError(f"error parsing jsonpath {template}, {e}") from None
        if self.kind == "custom-columns":
            try:
                return printers.custom_columns(self.arg, objs, self.opts.no_headers)
            except ValueError as e:
                raise CommandError(str(e)) from None
        raise CommandError(f"unsupported output format {self.spec}")


def run(word: str, argv: list[str]) -> int:
    opts = build_parser().parse_intermixed_args(argv)
    session = Session(opts)
    if opts.raw:
        body = session.client.request("GET", opts.raw)
        sys.stdout.write(body if isinstance(body, str) else printers.to_json(body).replace("    ", "  "))
        return 0
    out = Output(opts.output, opts)
    if opts.filename:
        from skiff.cli.kubectl import manifests

        return _get_manifests(session, out, manifests.load(opts.filename, opts.recursive))
    if not opts.words:
        sys.stderr.write(targets.require_type_message("get") + "\nerror: Required resource not specified.\n"
                         "Use \"kubectl explain <resource>\" for a detailed description of that resource "
                         "(e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples\n")
        return 1
    wanted = targets.resolve(session, opts.words)
    if opts.watch or opts.watch_only:
        if len(wanted) != 1:
            raise CommandError("you may only specify a single resource type")
        return _watch(session, out, wanted[0], opts)
    return _get(session, out, wanted, opts, several=len(wanted) > 1 or opts.words[0].lower() == "all")


def _list_params(opts: Any) -> dict[str, Any]:
    return {"labelSelector": opts.selector, "fieldSelector": opts.field_selector,
            "limit": opts.chunk_size if opts.chunk_size > 0 else None}


def _fetch(session: Session, target: targets.Target, accept: str, opts: Any) -> tuple[list[dict], list[str]]:
    """(documents, errors): a Table or list per chunk, or one document per named object."""
    res = target.resource
    ns = None if (opts.all_namespaces and not target.names) else session.ns_for(res)
    docs, errors = [], []
    if target.names:
        for name in target.names:
            try:
                docs.append(session.client.get(res, name, ns, accept=accept))
            except StatusError as e:
                if not (e.code == 404 and opts.ignore_not_found):
                    errors.append(server_error_text(e))
        return docs, errors
    params = _list_params(opts)
    while True:
        doc = session.client.list(res, ns, params=params, accept=accept)
        docs.append(doc)
        token = (doc.get("metadata") or {}).get("continue")
        if not token:
            return docs, errors
        params = dict(params, **{"continue": token})


def _items(res_kind: str, doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "items" not in doc:
        return [doc]
    kind = doc.get("kind", "")
    item_kind = kind[:-4] if kind.endswith("List") else res_kind
    return [{"apiVersion": doc.get("apiVersion"), "kind": item_kind, **item} if "kind" not in item else item
            for item in doc.get("items") or []]


def _get(session: Session, out: Output, wanted: list[targets.Target], opts: Any, several: bool) -> int:
    failed: list[str] = []
    chunks: list[str] = []
    objects: list[dict[str, Any]] = []
    names: list[str] = []
    single = len(wanted) == 1 and len(wanted[0].names) == 1
    for target in wanted:
        res = target.resource
        if out.table:
            docs, errors = _fetch(session, target, TABLE, opts)
            failed += errors
            rows: list[list[str]] = []
            for doc in docs:
                rows += printers.table_rows(doc, wide=out.kind == "wide", with_namespace=opts.all_namespaces and res.namespaced,
                                            show_labels=opts.show_labels, kind_prefix=res.kind_qualified if several else "",
                                            header=not rows, label_columns=options.split_csv(opts.label_columns),
                                            no_headers=opts.no_headers)
            if len(rows) > (0 if opts.no_headers else 1):
                chunks.append(printers.align(rows))
        else:
            docs, errors = _fetch(session, target, "application/json", opts)
            failed += errors
            for doc in docs:
                items = _items(res.kind, doc)
                objects += items
                names += [printers.name_line(res, o) for o in items]
    if out.table:
        if chunks:
            sys.stdout.write("\n".join(chunks))
        elif not failed and not any(t.names for t in wanted):
            sys.stderr.write(_no_resources(session, wanted, opts))
    elif out.kind == "name":
        sys.stdout.write("".join(n + "\n" for n in names))
    elif objects or not single:
        sys.stdout.write(out.objects(objects, single))
    for line in failed:
        sys.stderr.write(line + "\n")
    return 1 if failed else 0


def _no_resources(session: Session, wanted: list[targets.Target], opts: Any) -> str:
    if opts.all_namespaces or not any(t.resource.namespaced for t in wanted):
        return "No resources found\n"
    return f"No resources found in {session.namespace} namespace.\n"


def _get_manifests(session: Session, out: Output, manifests_: list) -> int:
    from skiff.cli.kubectl import manifests

    wanted = []
    for m in manifests_:
        res = manifests.resource_of(session, m)
        wanted.append((res, m))
    failed = False
    objects = []
    for res, m in wanted:
        meta = m.obj.get("metadata") or {}
        try:
            objects.append((res, session.client.get(res, meta.get("name", ""), session.ns_for(res, meta.get("namespace")),
                                                    accept=TABLE if out.table else "application/json")))
        except StatusError as e:
            sys.stderr.write(server_error_text(e) + "\n")
            failed = True
    if out.table:
        for i, (res, table) in enumerate(objects):
            sys.stdout.write(("\n" if i else "") + printers.align(printers.table_rows(
                table, wide=out.kind == "wide", kind_prefix=res.kind_qualified if len(objects) > 1 else "")))
    elif out.kind == "name":
        sys.stdout.write("".join(printers.name_line(res, o) + "\n" for res, o in objects))
    elif objects:
        sys.stdout.write(out.objects([o for _, o in objects], single=len(objects) == 1))
    return 1 if failed else 0


def _watch(session: Session, out: Output, target: targets.Target, opts: Any) -> int:
    res = target.resource
    ns = None if opts.all_namespaces else session.ns_for(res)
    accept = TABLE if out.table else "application/json"
    params: dict[str, Any] = {"labelSelector": opts.selector, "fieldSelector": opts.field_selector,
                              "allowWatchBookmarks": True}
    # the EVENT column is as wide as its longest word from the start, as kubectl sizes it
    table = printers.RunningTable(initial=[len("MODIFIED") + 3] if opts.output_watch_events else None)
    view = _WatchView(out, opts, res, table)
    if not opts.watch_only:
        if len(target.names) == 1:
            doc = session.client.get(res, target.names[0], ns, accept=accept)
            rv = (_table_rv(doc) if accept == TABLE else "") or (doc.get("metadata") or {}).get("resourceVersion", "")
        else:
            doc = session.client.list(res, ns, params={"labelSelector": opts.selector,
                                                       "fieldSelector": opts.field_selector}, accept=accept)
            rv = (doc.get("metadata") or {}).get("resourceVersion", "")
        if out.table:
            if not view.table_event("ADDED", doc):
                sys.stderr.write(_no_resources(session, [target], opts))
        else:
            for obj in _items(res.kind, doc):
                _print_event(out, res, "ADDED", obj, opts)
        params["resourceVersion"] = rv
    sys.stdout.flush()
    for event in session.client.watch(res, ns, target.names[0] if target.names else None, params=params, accept=accept):
        kind, obj = event.get("type", ""), event.get("object") or {}
        if kind == "BOOKMARK":
            continue
        if kind == "ERROR":
            raise StatusError(obj.get("code") or 500, obj)
        if out.table:
            view.table_event(kind, obj)
        else:
            _print_event(out, res, kind, obj, opts)
        sys.stdout.flush()
    return 0


class _WatchView:
    """The table of `get -w`: header once, column definitions kept from the first table (later
    watch events carry rows only), widths kept across events."""

    def __init__(self, out: Output, opts: Any, res: Any, table: printers.RunningTable):
        self.out, self.opts, self.res, self.table = out, opts, res, table
        self.columns: list[dict[str, Any]] | None = None
        self.header_done = False

    def table_event(self, kind: str, doc: dict[str, Any]) -> bool:
        if doc.get("columnDefinitions"):
            self.columns = self.columns or doc["columnDefinitions"]
        doc = {**doc, "columnDefinitions": self.columns or []}
        opts = self.opts
        rows = printers.table_rows(doc, wide=self.out.kind == "wide",
                                   with_namespace=opts.all_namespaces and self.res.namespaced,
                                   show_labels=opts.show_labels, header=True)
        if len(rows) < 2:
            return False
        if opts.output_watch_events:
            rows = [["EVENT", *rows[0]], *[[kind, *r] for r in rows[1:]]]
        text = self.table.format(rows)
        if self.header_done or opts.no_headers:
            text = text.split("\n", 1)[1]
        self.header_done = True
        sys.stdout.write(text)
        return True


def _table_rv(table: dict[str, Any]) -> str:
    rows = table.get("rows") or []
    if rows:
        return ((rows[0].get("object") or {}).get("metadata") or {}).get("resourceVersion", "")
    return ""


def _print_event(out: Output, res: Any, kind: str, obj: dict[str, Any], opts: Any) -> None:
    if out.kind == "name":
        sys.stdout.write(printers.name_line(res, obj) + "\n")
        return
    if opts.output_watch_events:
        obj = {"type": kind, "object": obj}
    text = out.objects([obj], single=True)
    sys.stdout.write(text if out.kind != "yaml" else "---\n" + text)
