"""`--format` handling shared by list commands: table/json/template, and Docker's tab alignment.

A list command gives a default table format, a header map (field → column title) and one
context object per row; this module renders it as docker's formatter package does.
"""

from __future__ import annotations

from skiff.cli.gotemplate import Template, go_json


def tabwrite(lines: list[str], minwidth: int = 10, padding: int = 3) -> str:
    """Go's tabwriter as docker configures it (minwidth 10, padding 3, spaces): align tab cells."""
    rows = [line.split("\t") for line in lines]
    widths: dict[int, int] = {}
    for cells in rows:
        for i, cell in enumerate(cells[:-1]):  # the last cell is not tab-terminated: never padded
            widths[i] = max(widths.get(i, 0), max(len(cell) + padding, minwidth))
    out = []
    for cells in rows:
        text = "".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])) + cells[-1]
        out.append(text)
    return "\n".join(out)


def unescape(fmt: str) -> str:
    return fmt.replace("\\t", "\t").replace("\\n", "\n")


class _Title(str):
    """A column title that also answers method-style fields such as {{.Label "k"}}."""

    def __call__(self, *_args) -> str:
        return str(self)


class Header:
    """The object a table's header row is rendered against: each field yields its title."""

    def __init__(self, titles: dict[str, str]):
        self._titles = titles

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return _Title(self._titles.get(name, name.upper()))


def render_list(fmt: str, rows: list, titles: dict[str, str], quiet_format: str | None = None) -> str:
    """Rows rendered with a --format value ('table ...', 'json', or a template); '' when nothing."""
    if fmt == "json":
        return "".join(go_json(_as_dict(r)) + "\n" for r in rows)
    is_table = fmt.startswith("table")
    body = unescape(fmt[5:].lstrip(" ") if is_table else fmt)
    tmpl = Template(body)
    rendered = [tmpl.execute(r) for r in rows]
    if not is_table:
        return "".join(r + "\n" for r in rendered)
    header = tmpl.execute(Header(titles))
    lines = []
    for text in [header, *rendered]:
        lines.extend(text.split("\n"))
    return tabwrite(lines) + "\n"


def _as_dict(row) -> dict:
    to_dict = getattr(row, "to_dict", None)
    return to_dict() if to_dict else row


class Row:
    """Base for per-row contexts: `FIELDS` names the properties exported by `--format json`."""

    FIELDS: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.FIELDS}
