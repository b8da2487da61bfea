"""Rows for `ps` and `images`: the fields Docker's formatters expose, computed on demand."""

from __future__ import annotations

import time

from skiff.cli.formatter import Row
from skiff.cli.humanize import ago, human_size

PS_TITLES = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "Status": "STATUS", "Size": "SIZE", "Names": "NAMES",
    "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS", "State": "STATE",
    "LocalVolumes": "LOCAL VOLUMES", "Platform": "PLATFORM",
}


def default_ps_format(size: bool) -> str:
    fmt = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    return fmt + "\t{{.Size}}" if size else fmt


def ellipsis(text: str, width: int) -> str:
    """Docker's Ellipsis: cut to width characters, the last one being '…'."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "…" if width > 1 else text[:width]


def short_id(full: str) -> str:
    if full.startswith("sha256:"):
        full = full[7:]
    return full[:12]


def go_quote(text: str) -> str:
    """strconv.Quote for the printable text commands hold."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def created_at(unix: float) -> str:
    """Go's time.Time.String() for a Unix time, in local time as docker shows it."""
    t = time.localtime(unix)
    offset = time.strftime("%z", t)
    return time.strftime("%Y-%m-%d %H:%M:%S ", t) + f"{offset} {time.strftime('%Z', t)}"


def display_ports(ports: list[dict]) -> str:
    """"0.0.0.0:8080->80/tcp, 443/tcp" from the list API's Ports."""
    items = []
    for p in sorted(ports or [], key=lambda p: (p.get("PrivatePort", 0), p.get("Type", ""), p.get("IP", ""))):
        target = f"{p.get('PrivatePort')}/{p.get('Type', 'tcp')}"
        if p.get("PublicPort"):
            ip = p.get("IP") or "0.0.0.0"
            host = f"[{ip}]" if ":" in ip else ip
            items.append(f"{host}:{p['PublicPort']}->{target}")
        else:
            items.append(target)
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return ", ".join(seen)


class PsRow(Row):
    FIELDS = ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names",
              "Networks", "Platform", "Ports", "RunningFor", "Size", "State", "Status")

    def __init__(self, c: dict, trunc: bool = True, now: float | None = None):
        self.c = c
        self.trunc = trunc
        self.now = now

    @property
    def ID(self) -> str:
        return short_id(self.c["Id"]) if self.trunc else self.c["Id"]

    @property
    def Names(self) -> str:
        names = []
        for name in self.c.get("Names") or []:
            if self.trunc and name.count("/") > 1:
                continue  # link aliases such as /web/db
            names.append(name[1:] if name.startswith("/") else name)
        return ",".join(names)

    @property
    def Image(self) -> str:
        image = self.c.get("Image", "")
        if not self.trunc:
            return image
        if image.startswith("sha256:") or (len(image) == 64 and image == self.c.get("ImageID", "")[7:]):
            return short_id(image)
        if "@" in image:
            return image.split("@", 1)[0]
        return image

    @property
    def Command(self) -> str:
        cmd = self.c.get("Command", "")
        return go_quote(ellipsis(cmd, 20) if self.trunc else cmd)

    @property
    def CreatedAt(self) -> str:
        return created_at(self.c.get("Created", 0))

    @property
    def RunningFor(self) -> str:
        return ago(self.c.get("Created", 0), self.now)

    @property
    def Ports(self) -> str:
        return display_ports(self.c.get("Ports") or [])

    @property
    def State(self) -> str:
        return self.c.get("State", "")

    @property
    def Platform(self):
        return self.c.get("ImageManifestDescriptor", {}).get("platform")

    @property
    def Status(self) -> str:
        return self.c.get("Status", "")

    @property
    def Size(self) -> str:
        rw = human_size(self.c.get("SizeRw") or 0, 3)
        root = self.c.get("SizeRootFs") or 0
        return f"{rw} (virtual {human_size(root, 3)})" if root > 0 else rw

    @property
    def Labels(self) -> str:
        return ",".join(f"{k}={v}" for k, v in (self.c.get("Labels") or {}).items())

    def Label(self, name: str) -> str:
        return (self.c.get("Labels") or {}).get(name, "")

    @property
    def Mounts(self) -> str:
        names = []
        for m in self.c.get("Mounts") or []:
            name = m.get("Name") or m.get("Source", "")
            names.append(ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    @property
    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    @property
    def Networks(self) -> str:
        nets = ((self.c.get("NetworkSettings") or {}).get("Networks") or {})
        return ",".join(sorted(nets))


IMAGE_TITLES = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
    "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
}


def default_images_format(digests: bool) -> str:
    if digests:
        return "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
    return "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"


def _split_ref(ref: str, sep: str) -> tuple[str, str]:
    if sep == "@":
        name, _, rest = ref.partition("@")
        return name, rest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1:]
    return ref, "latest"


class ImageRow(Row):
    FIELDS = ("Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository", "SharedSize",
              "Size", "Tag", "UniqueSize", "VirtualSize")

    def __init__(self, image: dict, repo: str, tag: str, digest: str, trunc: bool = True,
                 now: float | None = None):
        self.i = image
        self.Repository = repo
        self.Tag = tag
        self.Digest = digest
        self.trunc = trunc
        self.now = now

    @property
    def ID(self) -> str:
        return short_id(self.i["Id"]) if self.trunc else self.i["Id"]

    @property
    def CreatedSince(self) -> str:
        created = self.i.get("Created", 0)
        return ago(created, self.now) if created > 0 else "N/A"

    @property
    def CreatedAt(self) -> str:
        return created_at(self.i.get("Created", 0))

    @property
    def Size(self) -> str:
        return human_size(self.i.get("Size", 0), 3)

    @property
    def VirtualSize(self) -> str:
        return human_size(self.i.get("Size", 0))

    @property
    def SharedSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        return "N/A" if shared < 0 else human_size(shared, 3)

    @property
    def UniqueSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        return "N/A" if shared < 0 else human_size(self.i.get("Size", 0) - shared, 3)

    @property
    def Containers(self) -> str:
        n = self.i.get("Containers", -1)
        return "N/A" if n < 0 else str(n)


def image_rows(images: list[dict], digests: bool, trunc: bool = True, now: float | None = None) -> list[ImageRow]:
    """One row per repository:tag (and per digest with --digests), as docker's image formatter."""
    rows = []
    for img in images:
        tags = [t for t in img.get("RepoTags") or [] if t != "<none>:<none>"]
        digs = [d for d in img.get("RepoDigests") or [] if d != "<none>@<none>"]
        if not tags and not digs:
            rows.append(ImageRow(img, "<none>", "<none>", "<none>", trunc, now))
            continue
        repo_tags: dict[str, list[str]] = {}
        repo_digests: dict[str, list[str]] = {}
        for ref in tags:
            name, tag = _split_ref(ref, ":")
            repo_tags.setdefault(name, []).append(tag)
        for ref in digs:
            name, dg = _split_ref(ref, "@")
            repo_digests.setdefault(name, []).append(dg)
        for repo, tag_list in repo_tags.items():
            dlist = repo_digests.pop(repo, []) if digests else []
            repo_digests.pop(repo, None)
            for tag in tag_list:
                if not dlist:
                    rows.append(ImageRow(img, repo, tag, "<none>", trunc, now))
                for dg in dlist:
                    rows.append(ImageRow(img, repo, tag, dg, trunc, now))
        for repo, dlist in repo_digests.items():
            if digests:
                rows.extend(ImageRow(img, repo, "<none>", dg, trunc, now) for dg in dlist)
            else:
                rows.append(ImageRow(img, repo, "<none>", "", trunc, now))
    return rows
