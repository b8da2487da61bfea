"""`docker rmi` and `docker image prune`, with Docker's conflict rules and messages."""

from __future__ import annotations

from skiff.common.errors import Conflict, InvalidArgument
from skiff.common.ids import short_id
from skiff.common.timefmt import parse_rfc3339
from skiff.engine.images.filters import KNOWN, matches_filters, parse_until
from skiff.oci.reference import parse_reference


def _is_id_prefix(image_id: str, s: str) -> bool:
    s = s[7:] if s.startswith("sha256:") else s
    return image_id[7:].startswith(s)


def remove_image(svc, ref_or_id: str, force: bool, noprune: bool) -> list[dict]:
    image_id = svc.resolve_id(ref_or_id)
    refs = svc.store.refs_of(image_id)
    records: list[dict] = []
    if not _is_id_prefix(image_id, ref_or_id):
        ref = str(parse_reference(ref_or_id))
        if ref not in refs:  # found by digest: drop that digest reference
            ref = next((r for r in refs if "@" in r), ref)
        if not force and len(refs) <= 1:
            user = svc._using(image_id)
            if user:
                raise Conflict(f"conflict: unable to remove repository reference \"{ref_or_id}\" (must force) - "
                               f"container {short_id(user[0])} is using its referenced image {short_id(image_id)}")
        svc.store.delete_ref(ref)
        familiar = parse_reference(ref).familiar()
        svc.events.publish("image", "untag", image_id, {"name": familiar})
        records.append({"Untagged": familiar})
        records += _drop_repo_digests(svc, image_id, parse_reference(ref_or_id, default_tag=False))
        if svc.store.refs_of(image_id) or not _deletable(svc, image_id, force, after_untag=True):
            return records
    else:
        if len(refs) > 1 and not force:
            raise Conflict(f"conflict: unable to delete {short_id(image_id)} (must be forced) - "
                           "image is referenced in multiple repositories")
        _deletable(svc, image_id, force, after_untag=False)
        for r in refs:
            svc.store.delete_ref(r)
            familiar = parse_reference(r).familiar()
            svc.events.publish("image", "untag", image_id, {"name": familiar})
            records.append({"Untagged": familiar})
    parent = svc.store.records[image_id].parent if image_id in svc.store.records else ""
    records += svc._delete_image(image_id, prune=not noprune)
    if not noprune:
        records += _delete_unused_parents(svc, parent)
    return records


def _drop_repo_digests(svc, image_id: str, removed) -> list[dict]:
    """dockerd's rule: a digest reference goes when it is removed, and a repository's digest
    references go with its last tag (each reported as `Untagged: name@sha256:…`)."""
    rec = svc.store.records.get(image_id)
    if rec is None or not rec.repo_digests:
        return []
    name = removed.familiar_name()
    if removed.digest:  # already reported as untagged by the caller
        gone = [d for d in rec.repo_digests if d == f"{name}@{removed.digest}"]
    elif any(parse_reference(r).familiar_name() == name for r in svc.store.refs_of(image_id)):
        return []
    else:
        gone = [d for d in rec.repo_digests if d.split("@", 1)[0] == name]
    if not gone:
        return []
    rec.repo_digests = [d for d in rec.repo_digests if d not in gone]
    svc.store.save_record(rec)
    if removed.digest:
        return []
    for d in gone:
        svc.events.publish("image", "untag", image_id, {"name": d})
    return [{"Untagged": d} for d in gone]


def _delete_unused_parents(svc, parent: str) -> list[dict]:
    """As dockerd: rmi also deletes the image's untagged parents that nothing else uses (a
    build's intermediate images), up to the first one that is tagged, has another child or is
    used by a container."""
    out: list[dict] = []
    while parent and parent in svc.store.records:
        if svc.store.refs_of(parent) or svc._using(parent) or \
                any(r.parent == parent for r in svc.store.records.values()):
            break
        grandparent = svc.store.records[parent].parent
        out += svc._delete_image(parent, prune=True)
        parent = grandparent
    return out


def _deletable(svc, image_id: str, force: bool, after_untag: bool) -> bool:
    """Docker's conflict check. Deleting by id raises; after an untag a conflict quietly keeps
    the (now dangling) image, as dockerd does when a container still uses it."""
    sid = short_id(image_id)
    conflict = None
    children = [r.id for r in svc.store.records.values() if r.parent == image_id]
    user = svc._using(image_id)
    if children:
        conflict = f"conflict: unable to delete {sid} (cannot be forced) - image has dependent child images"
    elif user and user[1]:
        conflict = (f"conflict: unable to delete {sid} (cannot be forced) - "
                    f"image is being used by running container {short_id(user[0])}")
    elif user and not force:
        conflict = (f"conflict: unable to delete {sid} (must be forced) - "
                    f"image is being used by stopped container {short_id(user[0])}")
    if conflict is None:
        return True
    if after_untag:
        return False
    raise Conflict(conflict)


def prune(svc, all_images: bool, filters: dict[str, list[str]]) -> dict:
    filters = {k: v for k, v in filters.items() if v}
    for k in filters:
        if k not in KNOWN - {"before", "since", "reference"}:
            raise InvalidArgument(f"invalid filter '{k}'")
    dangling_only = not all_images
    if "dangling" in filters:
        dangling_only = filters.pop("dangling")[0].lower() in ("true", "1")
    until = [parse_until(v) for v in filters.pop("until", [])]
    deleted: list[dict] = []
    freed = 0
    with svc.lock:
        before = {c: svc.layers.size(c) for c in _all_chains(svc)}
        progress = True
        while progress:  # deleting a child can make its parent prunable
            progress = False
            for img in svc.images():
                if not _prunable(svc, img, dangling_only, filters, until):
                    continue
                for r in svc.store.refs_of(img.id):
                    svc.store.delete_ref(r)
                    familiar = parse_reference(r).familiar()
                    svc.events.publish("image", "untag", img.id, {"name": familiar})
                    deleted.append({"Untagged": familiar})
                deleted += svc._delete_image(img.id, prune=False)
                progress = True
        removed, _ = svc._gc()
        deleted += [{"Deleted": c} for c in removed]
        freed = sum(before.get(c, 0) for c in removed)
    svc.events.publish("image", "prune", "", {"reclaimed": str(freed)})
    return {"ImagesDeleted": deleted or None, "SpaceReclaimed": freed}


def _prunable(svc, img, dangling_only: bool, filters: dict, until: list[float]) -> bool:
    if dangling_only and img.repo_tags:
        return False
    if not matches_filters(img, filters, {}):
        return False
    if until and not all(parse_rfc3339(img.created or "") < u for u in until):
        return False
    if svc._using(img.id):
        return False
    return not any(r.parent == img.id for r in svc.store.records.values())


def _all_chains(svc) -> list[str]:
    return [i.key for i in svc.snapshotter.list() if i.kind == "committed"]
