"""Reading a project from disk: which files (`-f`, COMPOSE_FILE, the default names searched
upwards, the override file), `.env`, YAML with line numbers in errors, the format version,
interpolation, validation, `extends`, merging, relative paths made absolute."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from skiff.compose import deploy, filerefs, graph, merge, normalize, schema
from skiff.compose.errors import ConfigError, SchemaError
from skiff.compose.interpolate import interpolate_section
from skiff.compose.model import Project, normalize_project_name

DEFAULT_FILES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml",
                 "fig.yml", "fig.yaml")
OVERRIDE_FILES = ("docker-compose.override.yml", "docker-compose.override.yaml",
                  "compose.override.yml", "compose.override.yaml")
VERSION_EXPLANATION = (
    "You might be seeing this error because you're using the wrong Compose file version. Either specify "
    'a supported version (e.g "2.2" or "3.3") and place your service definitions under the `services` '
    "key, or omit the `version` key and place your service definitions at the root of the file to use "
    "version 1.\nFor more on the Compose file format versions, see "
    "https://docs.docker.com/compose/compose-file/")


def parse_env_file(text: str) -> dict[str, str]:
    """`.env`: KEY=VALUE lines, `#` comments, optional `export `, quotes around a value removed."""
    out = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[7:].lstrip()
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq:
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


def find_files(cwd: str, explicit: list[str], environ: Mapping[str, str]) -> tuple[list[str], str]:
    """(absolute config file paths, project directory)."""
    if not explicit:
        env_files = environ.get("COMPOSE_FILE") or environ.get("FIG_FILE")
        if env_files:
            explicit = env_files.split(environ.get("COMPOSE_PATH_SEPARATOR", os.pathsep))
    if explicit:
        if explicit == ["-"]:
            return ["-"], cwd
        paths = [os.path.abspath(os.path.join(cwd, f)) for f in explicit]
        for p in paths:
            if not os.path.isfile(p):
                raise ConfigError(f".IOError: [Errno 2] No such file or directory: '{p}'")
        return paths, os.path.dirname(paths[0])
    here = os.path.abspath(cwd)
    while True:
        found = [n for n in DEFAULT_FILES if os.path.isfile(os.path.join(here, n))]
        if found:
            files = [os.path.join(here, found[0])]
            overrides = [n for n in OVERRIDE_FILES if os.path.isfile(os.path.join(here, n))]
            if len(overrides) > 1:
                raise ConfigError(f"Multiple override files found: {', '.join(overrides)}. "
                                  "You may only use a single override file.")
            files += [os.path.join(here, n) for n in overrides]
            return files, here
        parent = os.path.dirname(here)
        if parent == here:
            raise ConfigError(
                "Can't find a suitable configuration file in this directory or any\n"
                "parent. Are you in the right directory?\n\n"
                f"Supported filenames: {', '.join(DEFAULT_FILES)}")
        here = parent


def read_yaml(path: str, text: str | None = None) -> dict:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    display = "-" if path == "-" else "./" + os.path.basename(path)
    try:
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        doc = yaml.load(text, Loader=loader)
    except OSError as e:
        raise ConfigError(f"{type(e).__name__}: {e}") from None
    except yaml.YAMLError as e:
        detail = str(e).replace('"<unicode string>"', f'"{display}"').replace('"<string>"', f'"{display}"')
        raise ConfigError(f"{type(e).__module__}.{type(e).__name__}: {detail}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise ConfigError(f"Top level object in '{display}' needs to be an object not '{type(doc)}'.")
    return doc


def file_version(doc: dict, path: str) -> str:
    if "version" not in doc:
        return "" if "services" in doc else "1"
    version = str(doc["version"])
    major = version.split(".")[0]
    if version == "1":
        return "1"
    if major in ("2", "3") and all(p.isdigit() for p in version.split(".")):
        return version
    raise ConfigError(f'Version in "./{os.path.basename(path)}" is unsupported. {VERSION_EXPLANATION}')


class _File:
    """One file's sections after interpolation, validation and normalisation."""

    def __init__(self, path: str, doc: dict, env: Mapping[str, str], warn):
        try:
            self._load(path, doc, env, warn)
        except SchemaError as e:
            e.path = e.path or ("-" if path == "-" else "./" + os.path.basename(path))
            raise

    def _load(self, path: str, doc: dict, env: Mapping[str, str], warn) -> None:
        self.path = path
        self.dir = os.path.dirname(path) if path != "-" else os.getcwd()
        self.version = file_version(doc, path)
        v1 = self.version == "1"
        if v1:
            raw_services = {k: v for k, v in doc.items() if k != "version" and not str(k).startswith("x-")}
            networks: dict = {}
            volumes: dict = {}
            secrets: dict = {}
            configs: dict = {}
        else:
            schema.check_top_level(doc, path)
            raw_services = doc.get("services") or {}
            if not isinstance(raw_services, dict):
                raise ConfigError("services contains an invalid type, it should be an object")
            networks = doc.get("networks") or {}
            volumes = doc.get("volumes") or {}
            secrets = doc.get("secrets") or {}
            configs = doc.get("configs") or {}
        for name in raw_services:
            if not isinstance(name, str) or not name or any(not (c.isalnum() or c in "._-") for c in name):
                raise ConfigError(f"Invalid service name '{name}' - only [a-zA-Z0-9\\._\\-] characters are allowed")
        services = interpolate_section(raw_services, env, "service", warn)
        for name, entry in services.items():
            schema.check_service(name, entry, v1)
        self.services = {n: normalize.service(n, e, v1) for n, e in services.items()}
        self.networks = interpolate_section(networks, env, "network", warn)
        self.volumes = interpolate_section(volumes, env, "volume", warn)
        self.secrets = interpolate_section(secrets, env, "secret", warn)
        self.configs = interpolate_section(configs, env, "config", warn)


def _absolute(path: str, base: str) -> str:
    path = os.path.expanduser(path)
    return os.path.normpath(os.path.join(base, path))


def _resolve_paths(svc: dict, base: str) -> dict:
    """Relative paths of a service (build context, env_file, bind sources) against its file's dir."""
    out = dict(svc)
    if "build" in out and "context" in out["build"]:
        context = str(out["build"]["context"])
        if "://" not in context and not context.startswith("git@"):
            out["build"] = {**out["build"], "context": _absolute(context, base)}
    if "env_file" in out:
        out["env_file"] = [_absolute(str(p), base) for p in out["env_file"]]
    if "volumes" in out:
        vols = []
        for v in out["volumes"]:
            if isinstance(v, str):
                source, colon, rest = v.partition(":")
                if colon and source.startswith((".", "/", "~")):
                    v = _absolute(source, base) + ":" + rest
            elif isinstance(v, dict) and v.get("type") == "bind" and v.get("source"):
                v = {**v, "source": _absolute(str(v["source"]), base)}
            vols.append(v)
        out["volumes"] = vols
    return out


def _extend(files: dict[str, _File], current: _File, name: str, seen: list[tuple[str, str]],
            loader: Callable[[str], _File]) -> dict:
    svc = current.services[name]
    ext = svc.get("extends")
    if not ext:
        return _resolve_paths(svc, current.dir)
    ref = {"service": ext} if isinstance(ext, str) else ext
    if "service" not in ref:
        raise ConfigError(f"services.{name}.extends is invalid, service is required.")
    target_path = _absolute(ref["file"], current.dir) if ref.get("file") else current.path
    signature = (target_path, ref["service"])
    if signature in seen:
        lines = [f"{s} in {p}" for p, s in seen + [signature]]
        raise ConfigError("Circular reference:\n  " + "\n  extends ".join(lines))
    target = files.get(target_path) or loader(target_path)
    files[target_path] = target
    if ref["service"] not in target.services:
        raise ConfigError(f"Cannot extend service '{ref['service']}' in {target_path}: Service not found")
    base = _extend(files, target, ref["service"], seen + [signature], loader)
    for key in ("links", "volumes_from", "depends_on"):
        base.pop(key, None)  # never inherited: they name services of the other file
    own = {k: v for k, v in svc.items() if k != "extends"}
    return merge.merge_service(base, _resolve_paths(own, current.dir))


def load_project(cwd: str, files: list[str] | None = None, project_name: str | None = None,
                 environ: Mapping[str, str] | None = None, warn: Callable[[str], None] | None = None,
                 stdin_text: str | None = None, project_directory: str | None = None) -> Project:
    environ = dict(os.environ if environ is None else environ)
    paths, working_dir = find_files(cwd, files or [], environ)
    working_dir = os.path.abspath(project_directory) if project_directory else working_dir
    env_path = os.path.join(working_dir, ".env")
    env: dict[str, str] = {}
    if os.path.isfile(env_path):
        with open(env_path, encoding="utf-8") as f:
            env.update(parse_env_file(f.read()))
    env.update(environ)  # the shell's variables win over .env's

    loaded: dict[str, _File] = {}

    def load(path: str) -> _File:
        doc = read_yaml(path, stdin_text if path == "-" else None)
        return _File(path, doc, env, warn)

    services: dict[str, dict] = {}
    networks: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    definitions: dict[str, dict[str, dict]] = {"secrets": {}, "configs": {}}
    version = ""
    for path in paths:
        part = load(path)
        loaded[path] = part
        version = version or part.version
        for name in part.services:
            svc = _extend(loaded, part, name, [(path, name)], load)
            services[name] = merge.merge_service(services[name], svc) if name in services else svc
        networks = merge.merge_section(networks, part.networks)
        volumes = merge.merge_section(volumes, part.volumes)
        for kind in filerefs.KINDS:
            definitions[kind] = merge.merge_section(definitions[kind], getattr(part, kind))
    for kind in filerefs.KINDS:  # `file` is relative to the project directory, as docker-compose reads it
        definitions[kind] = {k: {**(v or {}), "file": _absolute(str(v["file"]), working_dir)}
                             if (v or {}).get("file") is not None else dict(v or {})
                             for k, v in definitions[kind].items()}
    for name, svc in services.items():
        services[name] = _with_env_files(svc)
        if version == "1":  # fig: `net: container:<service>` means that service
            mode = svc.get("network_mode") or ""
            if mode.startswith("container:") and mode[10:] in services:
                services[name]["network_mode"] = "service:" + mode[10:]
        deploy.check(name, svc)
        if "image" not in svc and "build" not in svc:
            raise ConfigError(f"Service {name} has neither an image nor a build context specified. "
                              "At least one must be provided.")
    graph.check_references(services)
    filerefs.check_references(services, definitions)
    graph.start_order(services)  # refuses cycles now rather than at `up`
    for name, svc in services.items():
        for net in svc.get("networks") or {}:
            if net != "default" and net not in networks:
                raise ConfigError(f'Service "{name}" uses an undefined network "{net}"')
    name = project_name or environ.get("COMPOSE_PROJECT_NAME") or env.get("COMPOSE_PROJECT_NAME") \
        or environ.get("FIG_PROJECT_NAME") or os.path.basename(working_dir)
    name = normalize_project_name(name)
    if not name:
        raise ConfigError("The project name is empty once normalised: use -p NAME with letters or digits.")
    return Project(name=name, working_dir=working_dir, config_files=paths, services=services,
                   networks=networks, volumes=volumes, secrets=definitions["secrets"],
                   configs=definitions["configs"], version=version or "3", environment=env)


def _with_env_files(svc: dict) -> dict:
    """environment = env_file contents under `environment`. Bare keys stay None here (the
    config hash counts them so); containers get their values from the shell (spec.py)."""
    merged: dict[str, str | None] = {}
    for path in svc.get("env_file") or []:
        try:
            with open(path, encoding="utf-8") as f:
                merged.update(parse_env_file(f.read()))
        except OSError:
            raise ConfigError(f"Couldn't find env file: {path}") from None
    merged.update(svc.get("environment") or {})
    out = {k: v for k, v in svc.items() if k != "env_file"}
    if merged or "environment" in svc:
        out["environment"] = merged
    return out
