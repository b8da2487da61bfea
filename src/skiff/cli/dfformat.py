"""`system df -v`: docker's verbose disk-usage report (images, containers, volumes, build
cache, one table each) from a /system/df answer. Pure."""

from __future__ import annotations

from skiff.cli.formatter import render_list
from skiff.cli.humanize import ago, human_size
from skiff.cli.psformat import IMAGE_TITLES, ImageRow, PsRow, image_rows

IMAGES = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}"
CONTAINERS = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}"
              "\t{{.Status}}\t{{.Names}}")
CONTAINER_TITLES = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
                    "Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES"}
VOLUMES = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUME_TITLES = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE = "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}"
CACHE_TITLES = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
                "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}


class _DfImageRow(ImageRow):
    """docker's df shows shared and unique sizes with four significant digits, `images` with three."""

    @property
    def SharedSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        return "N/A" if shared < 0 else human_size(shared)

    @property
    def UniqueSize(self) -> str:
        shared = self.i.get("SharedSize", -1)
        return "N/A" if shared < 0 else human_size(self.i.get("Size", 0) - shared)


class _DfContainerRow(PsRow):
    @property
    def Size(self) -> str:  # the writable layer only, no "(virtual ...)"
        return human_size(self.c.get("SizeRw") or 0)


class _Fields(dict):
    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _volume_row(v: dict) -> _Fields:
    usage = v.get("UsageData")
    if usage is None:  # the engine did not measure it
        return _Fields(Name=v.get("Name", ""), Links="N/A", Size="N/A")
    return _Fields(Name=v.get("Name", ""), Links=str(usage.get("RefCount", 0)), Size=human_size(usage.get("Size", 0)))


def _cache_row(b: dict, now: float | None) -> _Fields:
    return _Fields(ID=b.get("ID", "")[:12], CacheType=b.get("Type", ""), Size=human_size(b.get("Size", 0)),
                   CreatedSince=ago(_unix(b.get("CreatedAt")), now), LastUsedSince=ago(_unix(b.get("LastUsedAt")), now),
                   UsageCount=str(b.get("UsageCount", 0)), Shared=str(bool(b.get("Shared"))).lower())


def _unix(stamp: str | None) -> float:
    from datetime import datetime

    if not stamp:
        return 0.0
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def verbose_report(data: dict, now: float | None = None) -> str:
    images = [_DfImageRow(r.i, r.Repository, r.Tag, r.Digest, True, now)
              for r in image_rows(data.get("Images") or [], digests=False, now=now)]
    containers = [_DfContainerRow(c, True, now) for c in data.get("Containers") or []]
    volumes = [_volume_row(v) for v in data.get("Volumes") or []]
    cache = data.get("BuildCache") or []
    cache_size = sum(b.get("Size", 0) for b in cache)
    return ("Images space usage:\n\n" + render_list(IMAGES, images, IMAGE_TITLES)
            + "\nContainers space usage:\n\n" + render_list(CONTAINERS, containers, CONTAINER_TITLES)
            + "\nLocal Volumes space usage:\n\n" + render_list(VOLUMES, volumes, VOLUME_TITLES)
            + f"\nBuild cache usage: {human_size(cache_size)}\n\n"
            + render_list(CACHE, [_cache_row(b, now) for b in cache], CACHE_TITLES))
