"""The steps that change files: RUN (in a container), COPY/ADD and WORKDIR (on a mounted
snapshot). Each probes the cache first, then commits its changes as a layer."""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from skiff.common.errors import InvalidArgument, NotFound, SkiffError
from skiff.engine.build import context as ctxfiles
from skiff.engine.build import copying, workspace
from skiff.engine.build.dispatch import PROXY_ARGS, StageState, apply_workdir, expansion_env, run_args
from skiff.engine.build.instructions import Instruction
from skiff.engine.build.run_step import run_container
from skiff.engine.build.session import Build, BuildError, commit, probe_cache, remove_container, resolve_image
from skiff.engine.build.shellwords import process_word, process_words
from skiff.oci import image as oci


def _chain(state: StageState) -> str | None:
    chains = oci.chain_ids(state.image.get("rootfs", {}).get("diff_ids", []))
    return chains[-1] if chains else None


async def run(b: Build, state: StageState, ins: Instruction, args: dict[str, str]) -> None:
    cmd = list(ins.args) if ins.json else [*state.shell, ins.text]
    used = run_args(state, args)
    save_cmd = [f"|{len(used)}", *used, *cmd] if used else cmd
    probe = {**state.run, "Cmd": save_cmd, "Entrypoint": None}
    if await probe_cache(b, state, probe):
        return
    if not state.image_id:
        raise BuildError(f"The command '{' '.join(cmd)}' cannot run: FROM scratch has no files to run it with")
    env = list(state.run.get("Env") or []) + used
    env += [f"{k}={v}" for k, v in args.items() if k in PROXY_ARGS and not any(e.startswith(k + "=") for e in env)]
    created: list[str] = []
    try:
        cid, code = await run_container(b.containers, state.image_id, state.run, cmd, env, b.opts.network,
                                        b.opts.run_host_config, b.progress, created.append)
    except BaseException:  # the client went away (the handler is cancelled) or the engine failed
        for c in created:
            await asyncio.shield(remove_container(b, c))
        raise
    if code != 0:
        if b.opts.force_rm:  # else kept for inspection, as dockerd keeps a failed step's container
            await remove_container(b, cid)
        raise BuildError(f"The command '{' '.join(cmd)}' returned a non-zero code: {code}", code)
    remove = b.opts.rm or b.opts.force_rm
    try:
        await commit(b, state, probe, " ".join(save_cmd), cid, before_id=_removed_line(b, cid), container=True,
                     keep=not remove)
    finally:
        if remove:
            await remove_container(b, cid)


def _removed_line(b: Build, cid: str) -> str:
    return f"Removing intermediate container {cid[:12]}\n" if (b.opts.rm or b.opts.force_rm) else ""


async def _sources(b: Build, state: StageState, ins: Instruction, words: list[str], stack: contextlib.ExitStack
                   ) -> list[tuple[str, str]]:
    """Host paths of the sources: from the context, a URL (ADD), or another stage or image (--from)."""
    name = ins.kind.upper()
    srcs = words[:-1]
    out: list[tuple[str, str]] = []
    from_ref = ins.flags.get("from", "")
    if from_ref:
        from_ref = process_word(from_ref, expansion_env(state, b.opts.build_args), b.escape)
        image_id = b.stages.get(from_ref.lower())
        if image_id is None:
            image_id = (await resolve_image(b, from_ref)).id
        image = b.images.get(image_id)
        root = stack.enter_context(workspace.image_root(b.images, image.chain_id, b.tmp_dir))
        for src in srcs:
            try:
                out += ctxfiles.resolve_sources(root, src, name)
            except NotFound:
                raise BuildError(f"{name} failed: stat {src}: file does not exist") from None
        return out
    for src in srcs:
        if ins.kind == "add" and src.startswith(("http://", "https://")):
            path, fname = await asyncio.to_thread(copying.download, src, b.tmp_dir)
            out.append((path, fname))
            continue
        out += ctxfiles.resolve_sources(b.context_dir, src, name)
    return out


async def copy(b: Build, state: StageState, ins: Instruction, args: dict[str, str]) -> None:
    name = ins.kind.upper()
    env = expansion_env(state, args)
    if ins.json:
        words = [process_word(a, env, b.escape) for a in ins.args]
    else:
        words = [w for a in ins.args for w in process_words(a, env, b.escape)]
    if len(words) < 2:
        raise InvalidArgument(f"{name} requires at least two arguments")
    for flag in ("chmod", "link", "parents", "exclude", "checksum", "keep-git-dir"):
        if flag in ins.flags:
            raise BuildError(f"the --{flag} option requires BuildKit. Refer to https://docs.docker.com/go/buildkit/ "
                             "to learn how to build images with BuildKit enabled")
    with contextlib.ExitStack() as stack:
        try:
            sources = await _sources(b, state, ins, words, stack)
        except SkiffError as e:
            raise BuildError(e.message) from None
        checksum = await asyncio.to_thread(copying.source_checksum, [s for s, _ in sources])
        comment = f"{name} {checksum} in {words[-1]} "
        chown = process_word(ins.flags.get("chown", ""), env, b.escape)
        probe = {**state.run, "Cmd": [*state.shell, "#(nop) " + comment]}
        if chown:
            probe["Cmd"] = [*probe["Cmd"], "--chown=" + chown]
        if await probe_cache(b, state, probe):
            return
        key = workspace.new_key()
        try:
            with workspace.mounted(b.images, key, _chain(state), b.tmp_dir) as root:
                await asyncio.to_thread(_copy_files, root, sources, words[-1], state, chown, name, ins.kind == "add")
            await commit(b, state, probe, " ".join([*state.shell, "#(nop) " + comment]), key)
        finally:
            await asyncio.to_thread(_drop_snapshot, b.images, key)


def _copy_files(root: str, sources: list[tuple[str, str]], dest: str, state: StageState, chown: str,
                name: str, extract: bool) -> None:
    uid = gid = 0
    if chown:
        uid, gid = _resolve_chown(root, chown)
    try:
        copying.copy_into(root, sources, dest, state.run.get("WorkingDir") or "/", uid, gid, name, extract,
                          chown_given=bool(chown))
    except OSError as e:
        raise BuildError(f"{name} failed: {e.strerror or e}: {dest}") from None


def _resolve_chown(root: str, spec: str) -> tuple[int, int]:
    from skiff.engine.containers.hostfs import secure_join
    from skiff.engine.containers.user import resolve_user

    def read(path: str) -> str:
        try:
            with open(secure_join(root, path), errors="replace") as f:
                return f.read()
        except OSError:
            return ""
    user, _, group = spec.partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        try:
            resolved = resolve_user(spec, read("/etc/passwd"), read("/etc/group"))
        except InvalidArgument as e:
            raise BuildError(f"unable to convert uid/gid chown string to host mapping: {e.message}") from None
        return resolved.uid, resolved.gid
    return int(user), int(group or user)


def _drop_snapshot(images: Any, key: str) -> None:
    with images.lock:
        if images.snapshotter.exists(key):
            images.snapshotter.remove(key)


async def workdir(b: Build, state: StageState, ins: Instruction, args: dict[str, str]) -> None:
    path = apply_workdir(state, ins, args)
    comment = "WORKDIR " + path
    probe = {**state.run, "Cmd": [*state.shell, "#(nop) " + comment]}
    if await probe_cache(b, state, probe):
        return
    key = workspace.new_key()
    try:
        with workspace.mounted(b.images, key, _chain(state), b.tmp_dir) as root:
            made = await asyncio.to_thread(_make_workdir, root, path)
        await commit(b, state, probe, " ".join(probe["Cmd"]), key if made else None)
    finally:
        await asyncio.to_thread(_drop_snapshot, b.images, key)


def _make_workdir(root: str, path: str) -> bool:
    from skiff.engine.containers.hostfs import secure_join
    target = secure_join(root, path)
    if os.path.isdir(target):
        return False
    os.makedirs(target, 0o755, exist_ok=True)
    return True
