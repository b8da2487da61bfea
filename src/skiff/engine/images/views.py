"""Docker's JSON shapes for images: ImageInspect, ImageSummary, history (pure functions)."""

from __future__ import annotations

from skiff.common.timefmt import ZERO_TIME, parse_rfc3339

CONTAINER_CONFIG_DEFAULTS: dict = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False, "Env": None,
    "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "", "Entrypoint": None,
    "OnBuild": None, "Labels": None,
}


def container_config(config: dict) -> dict:
    """The image config's runtime part with every field Docker's inspect shows."""
    return {**CONTAINER_CONFIG_DEFAULTS, **(config.get("config") or {})}


def inspect(image_id: str, config: dict, repo_tags: list[str], repo_digests: list[str], parent: str,
            size: int, last_tag_time: str, layers_dir: dict[str, str] | None = None,
            driver: str = "overlay2") -> dict:
    created = config.get("created") or ZERO_TIME
    return {
        "Id": image_id,
        "RepoTags": repo_tags,
        "RepoDigests": repo_digests,
        "Parent": parent,
        "Comment": config.get("comment", ""),
        "Created": created,
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": container_config(config),
        "Architecture": config.get("architecture", ""),
        **({"Variant": config["variant"]} if config.get("variant") else {}),
        "Os": config.get("os", ""),
        **({"OsVersion": config["os.version"]} if config.get("os.version") else {}),
        "Size": size,
        "VirtualSize": size,
        "GraphDriver": {"Data": layers_dir or {}, "Name": driver},
        "RootFS": {"Type": "layers", "Layers": list(config.get("rootfs", {}).get("diff_ids", []))},
        "Metadata": {"LastTagTime": last_tag_time or ZERO_TIME},
    }


def summary(image_id: str, config: dict, repo_tags: list[str], repo_digests: list[str], parent: str,
            size: int, containers: int = -1) -> dict:
    return {
        "Id": image_id,
        "ParentId": parent,
        "RepoTags": repo_tags,
        "RepoDigests": repo_digests,
        "Created": int(parse_rfc3339(config.get("created") or ZERO_TIME)),
        "Size": size,
        "SharedSize": -1,
        "VirtualSize": size,
        "Labels": (config.get("config") or {}).get("Labels") or {},
        "Containers": containers,
    }


def history(image_id: str, config: dict, layer_sizes: list[int], repo_tags: list[str]) -> list[dict]:
    """Newest first; only the top entry carries the image id, others show <missing>."""
    entries = list(config.get("history") or [])
    if not entries:
        entries = [{"created": config.get("created", ZERO_TIME), "created_by": ""} for _ in layer_sizes]
    out = []
    layer = 0
    for h in entries:
        size = 0
        if not h.get("empty_layer"):
            size = layer_sizes[layer] if layer < len(layer_sizes) else 0
            layer += 1
        out.append({
            "Id": "<missing>",
            "Created": int(parse_rfc3339(h.get("created") or ZERO_TIME)),
            "CreatedBy": h.get("created_by", ""),
            "Tags": None,
            "Size": size,
            "Comment": h.get("comment", ""),
        })
    out.reverse()
    if out:
        out[0]["Id"] = image_id
        out[0]["Tags"] = repo_tags or None
    return out
