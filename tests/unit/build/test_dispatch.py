"""Metadata instructions applied to the image config as Docker's classic builder does."""

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.build.dispatch import (
    DEFAULT_PATH,
    StageState,
    apply,
    expansion_env,
    go_quote_list,
    normalize_port,
    parse_duration,
    run_args,
)
from skiff.engine.build.instructions import parse_dockerfile


def run_all(text, build_args=None, run=None):
    df = parse_dockerfile("FROM x\n" + text)
    state = StageState({}, "sha256:x", dict(run or {"Env": [DEFAULT_PATH]}))
    comments = [apply(state, ins, build_args or {}) for ins in df.stages[0].commands]
    return state, comments


def test_env_label_expose_volume_user_workdir():
    state, comments = run_all('ENV A=1 B="two words"\nENV C=${A}x\nLABEL a=$A "b c"=d\nEXPOSE 80 53/udp 8000-8001\n'
                              'VOLUME /data ["/x"]\nVOLUME ["/y", "/z"]\nUSER nobody\nWORKDIR /a\nWORKDIR b\n'
                              'WORKDIR $A\nSTOPSIGNAL SIGTERM\nMAINTAINER me')
    run = state.run
    assert run["Env"] == [DEFAULT_PATH, "A=1", "B=two words", "C=1x"]
    assert run["Labels"] == {"a": "1", "b c": "d"}
    assert set(run["ExposedPorts"]) == {"80/tcp", "53/udp", "8000/tcp", "8001/tcp"}
    assert set(run["Volumes"]) == {"/data", "[/x]", "/y", "/z"}  # shell form: quotes removed
    assert run["User"] == "nobody"
    assert run["WorkingDir"] == "/a/b/1"
    assert run["StopSignal"] == "SIGTERM"
    assert state.image["author"] == "me"
    assert comments[0] == "ENV A=1 B=two words"
    assert comments[3] == "EXPOSE 53/udp 80 8000-8001"  # the words as written, sorted, as dockerd
    assert comments[5] == "VOLUME [/y /z]"


def test_env_replaces_in_place():
    state, _ = run_all("ENV PATH=/bin\nENV X=1\nENV PATH=$PATH:/sbin")
    assert state.run["Env"] == ["PATH=/bin:/sbin", "X=1"]


def test_cmd_entrypoint_forms_and_reset():
    state, comments = run_all('CMD ["a", "b"]\nENTRYPOINT echo hi')
    assert state.run["Entrypoint"] == ["/bin/sh", "-c", "echo hi"]
    assert state.run["Cmd"] == ["a", "b"]  # CMD set in this Dockerfile stays
    assert comments == ['CMD ["a" "b"]', 'ENTRYPOINT ["/bin/sh" "-c" "echo hi"]']
    state, _ = run_all('ENTRYPOINT ["top"]', run={"Cmd": ["sh"], "Env": [DEFAULT_PATH]})
    assert state.run["Cmd"] is None  # the base image's CMD goes with a new ENTRYPOINT


def test_shell_changes_shell_form():
    state, _ = run_all('SHELL ["/bin/bash", "-o", "pipefail", "-c"]\nCMD echo hi')
    assert state.run["Cmd"] == ["/bin/bash", "-o", "pipefail", "-c", "echo hi"]


def test_arg_defaults_build_args_and_env_precedence():
    state, comments = run_all("ARG A=def\nARG B\nARG C=c\nENV C=fromenv", build_args={"B": "given"})
    assert comments[:2] == ["ARG A=def", "ARG B"]
    env = expansion_env(state, {"B": "given"})
    assert (env["A"], env["B"], env["C"]) == ("def", "given", "fromenv")
    assert run_args(state, {"B": "given"}) == ["A=def", "B=given"]  # C is overridden by ENV


def test_proxy_args_need_no_declaration_and_stay_out_of_history():
    state, _ = run_all("ENV X=1")
    assert expansion_env(state, {"HTTP_PROXY": "http://p"})["HTTP_PROXY"] == "http://p"
    assert run_args(state, {"HTTP_PROXY": "http://p"}) == []


def test_onbuild_and_healthcheck():
    state, comments = run_all("ONBUILD RUN echo hi\nHEALTHCHECK --interval=1m30s --timeout=500ms --retries=2 CMD true")
    assert state.run["OnBuild"] == ["RUN echo hi"]
    assert state.run["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 90_000_000_000,
                                        "Timeout": 500_000_000, "Retries": 2}
    assert comments[0] == "ONBUILD RUN echo hi"


def test_bad_values_carry_the_line():
    with pytest.raises(InvalidArgument, match="line 2: invalid containerPort: abc"):
        run_all("EXPOSE abc")
    with pytest.raises(InvalidArgument, match="line 2: time: invalid duration"):
        run_all("HEALTHCHECK --interval=5x CMD true")


def test_helpers():
    assert go_quote_list(["sh", "-c", 'a "b"']) == '["sh" "-c" "a \\"b\\""]'
    assert normalize_port("8080/UDP") == ["8080/udp"]
    with pytest.raises(InvalidArgument):
        normalize_port("9-1")
    assert parse_duration("2h", "--interval") == 7_200_000_000_000


def test_pairs_of_one_env_do_not_see_each_other():
    state, _ = run_all("ENV A=1 C=${A:+yes}\nENV D=${A:+yes}")
    assert state.run["Env"][1:] == ["A=1", "C=", "D=yes"]


def test_pairs_of_one_arg_do_not_see_each_other():
    state, _ = run_all("ARG A=1 B=${A}x\nARG C=${A}y")
    env = expansion_env(state, {})
    assert (env["B"], env["C"]) == ("x", "1y")
