"""The classic builder: stages and steps in order, each step committed as an image, the layer
cache probed before each step, progress sent as dockerd's JSON stream messages."""

from __future__ import annotations

import copy

from skiff.engine.build import dispatch, steps
from skiff.engine.build.commit import scratch_config
from skiff.engine.build.dispatch import DEFAULT_PATH, StageState
from skiff.engine.build.instructions import Dockerfile, Instruction, Stage, stages_for_target, to_instruction
from skiff.engine.build.parser import node_from_line
from skiff.engine.build.session import Build, BuildError, commit_metadata, resolve_image
from skiff.engine.build.shellwords import process_word


def _label_instruction(labels: dict[str, str], line: int) -> Instruction:
    text = "LABEL " + " ".join(f"{_quoted(k)}={_quoted(v)}" for k, v in sorted(labels.items()))
    return to_instruction(node_from_line(text, line, line), "\\")


def _quoted(s: str) -> str:
    """A --label key or value as a LABEL word: bare when it can be, else double-quoted."""
    if s and not any(c.isspace() or c in "\"'\\$=" for c in s):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


def total_steps(df: Dockerfile, stages: list[Stage]) -> int:
    return len(df.meta_args) + sum(1 + len(s.commands) for s in stages)


async def run_build(b: Build, df: Dockerfile) -> str:
    """Run every selected stage; returns the final image id (tagging is the caller's)."""
    stages = [copy.copy(s) for s in stages_for_target(df, b.opts.target)]
    b.escape = df.escape
    if b.opts.labels:
        last = stages[-1]
        last.commands = [*last.commands, _label_instruction(b.opts.labels, last.node.end_line)]
    total = total_steps(df, stages)
    step = 0
    meta: dict[str, str | None] = {}
    for ins in df.meta_args:
        step += 1
        await b.say(f"Step {step}/{total} : {ins.original}\n")
        known = _known(meta)  # the pairs of one ARG do not see each other
        for key, raw in ins.pairs:
            default = None if raw is None else process_word(raw, known, df.escape)
            meta[key] = b.opts.build_args.get(key, default)
            b.used_args.add(key)
    final = ""
    for stage in stages:
        step += 1
        await b.say(f"Step {step}/{total} : {stage.node.original}\n")
        state = await _from(b, stage, meta)
        for ins in stage.commands:
            step += 1
            await b.say(f"Step {step}/{total} : {ins.original}\n")
            await execute(b, state, ins, meta)
        if not state.image_id:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        b.stages[str(stage.index)] = state.image_id
        if stage.name:
            b.stages[stage.name] = state.image_id
        final = state.image_id
    return final


def _known(meta: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in meta.items() if v is not None}


async def _from(b: Build, stage: Stage, meta: dict[str, str | None]) -> StageState:
    name = process_word(stage.base, _known(meta), b.escape)
    if not name:
        raise BuildError(f"base name ({stage.base}) should not be blank")
    if name.lower() == "scratch":
        await b.say(" ---> \n")  # dockerd reports scratch's (empty) id too
        return StageState(scratch_config(), "", {"Env": [DEFAULT_PATH]}, escape=b.escape)
    if name.lower() in b.stages:
        image = b.images.get(b.stages[name.lower()])
    else:
        image = await resolve_image(b, name, b.opts.pull)
    state = StageState(copy.deepcopy(image.config), image.id, copy.deepcopy(image.container_config),
                       escape=b.escape)
    if not state.run.get("Env"):
        state.run["Env"] = [DEFAULT_PATH]
    triggers = state.run.pop("OnBuild", None) or []
    if not triggers:  # with triggers, the last trigger's step reports the id
        await b.say(f" ---> {image.id.removeprefix('sha256:')[:12]}\n")
    else:
        await b.say(f"# Executing {len(triggers)} build trigger{'s' if len(triggers) != 1 else ''}\n")
        for text in triggers:
            ins = to_instruction(node_from_line(text, stage.node.line, stage.node.line), b.escape)
            await execute(b, state, ins, meta)
    return state


def _stage_args(b: Build, state: StageState, meta: dict[str, str | None]) -> dict[str, str]:
    """--build-arg values, with the global ARG defaults for names redeclared without a value."""
    out = {k: v for k, v in meta.items() if v is not None and k in state.args}
    out.update(b.opts.build_args)
    return out


async def execute(b: Build, state: StageState, ins: Instruction, meta: dict[str, str | None]) -> None:
    args = _stage_args(b, state, meta)
    if ins.kind == "arg":
        for key, _ in ins.pairs:
            b.used_args.add(key)
            if key in meta and meta[key] is not None:
                args.setdefault(key, meta[key])  # type: ignore[arg-type]
    if ins.kind == "run":
        await steps.run(b, state, ins, args)
    elif ins.kind in ("copy", "add"):
        await steps.copy(b, state, ins, args)
    elif ins.kind == "workdir":
        await steps.workdir(b, state, ins, args)
    else:
        comment = dispatch.apply(state, ins, args)
        await commit_metadata(b, state, comment)
