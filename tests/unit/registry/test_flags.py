"""`--insecure-registry` on the engine and the registry server's command line."""

import argparse

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.daemon import parse_args
from skiff.engine.registry.server.serve import load_config


def test_engine_insecure_registry_flag_repeats():
    opts = parse_args(["--insecure-registry", "myhost:5000", "--insecure-registry", "10.0.0.0/8"])
    assert opts.insecure_registries == ["myhost:5000", "10.0.0.0/8"]
    assert parse_args([]).insecure_registries == []


def _args(**kw):
    base = {"config": None, "addr": None, "root": None, "htpasswd": None, "realm": None}
    return argparse.Namespace(**{**base, **kw})


def test_serve_flags_override_the_config_file(tmp_path):
    cfg = tmp_path / "config.yml"
    cfg.write_text("version: 0.1\nstorage: {filesystem: {rootdirectory: /from/file}}\nhttp: {addr: ':5001'}\n")
    got = load_config(_args(config=str(cfg), root=str(tmp_path / "r")))
    assert (got.root, got.addr) == (str(tmp_path / "r"), ":5001")
    assert load_config(_args()).addr == "0.0.0.0:5000"
    with pytest.raises(InvalidArgument):
        load_config(_args(addr="nope"))
