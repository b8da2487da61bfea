"""The Dockerfile lexer and instruction parser: directives, comments, continuations, forms, errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skiff.engine.build.instructions import parse_dockerfile, split_words, stages_for_target
from skiff.engine.build.parser import DockerfileError, parse


def test_comments_blank_lines_and_continuations():
    text = "# a comment\n\nFROM busybox\nRUN echo a \\\n  # dropped comment\n  b \\\n\n  c\n"
    p = parse(text)
    assert [n.cmd for n in p.nodes] == ["from", "run"]
    run = p.nodes[1]
    assert run.original == "RUN echo a   b   c"
    assert (run.line, run.end_line) == (4, 8)
    assert p.warnings and "Empty continuation line" in p.warnings[0]


def test_escape_directive_backtick():
    p = parse("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  && echo hi\n")
    assert p.escape == "`"
    assert p.nodes[1].rest == "dir c:\\   && echo hi"


def test_directives_only_at_the_top():
    p = parse("FROM busybox\n# escape=`\nRUN a \\\n b\n")
    assert p.escape == "\\"
    assert p.nodes[1].rest == "a  b"
    assert parse("# syntax=docker/dockerfile:1\n# escape=\\\nFROM x\n").directives == {
        "syntax": "docker/dockerfile:1", "escape": "\\"}


def test_bad_escape_and_repeated_directive():
    with pytest.raises(DockerfileError, match="invalid escape token"):
        parse("# escape=x\nFROM busybox\n")
    with pytest.raises(DockerfileError, match="only one escape parser directive"):
        parse("# escape=`\n# escape=`\nFROM busybox\n")


def test_unknown_instruction_has_line_and_docker_wording():
    with pytest.raises(DockerfileError) as e:
        parse_dockerfile("FROM busybox\nRUN true\nFORM x\n")
    assert e.value.message == "dockerfile parse error on line 3: unknown instruction: FORM"
    assert e.value.status == 400


def test_instruction_words_are_case_insensitive():
    df = parse_dockerfile("from busybox AS Base\nrun echo hi\nCmd [\"sh\"]\n")
    assert df.stages[0].name == "base"
    assert [c.kind for c in df.stages[0].commands] == ["run", "cmd"]


def test_exec_and_shell_forms_and_malformed_json_falls_back():
    df = parse_dockerfile('FROM busybox\nCMD ["echo", "hi"]\nCMD echo hi\nCMD [echo, hi]\nENTRYPOINT ["a"]\n')
    cmds = df.stages[0].commands
    assert (cmds[0].args, cmds[0].json) == (["echo", "hi"], True)
    assert (cmds[1].args, cmds[1].json) == (["echo hi"], False)
    assert (cmds[2].args, cmds[2].json) == (["[echo, hi]"], False)
    assert cmds[3].json


def test_env_both_forms_and_label():
    df = parse_dockerfile('FROM x\nENV A=1 B="two words" C=\\$x\nENV LEGACY value with spaces\nLABEL a=b "c d"=e\n')
    env1, env2, label = df.stages[0].commands
    assert env1.pairs == [("A", "1"), ("B", '"two words"'), ("C", "\\$x")]
    assert env2.pairs == [("LEGACY", "value with spaces")]
    assert label.pairs == [("a", "b"), ('"c d"', "e")]


def test_env_errors():
    with pytest.raises(DockerfileError, match="line 2: ENV must have two arguments"):
        parse_dockerfile("FROM x\nENV A\n")
    with pytest.raises(DockerfileError, match="can't find = in \"B\""):
        parse_dockerfile("FROM x\nENV A=1 B\n")


def test_multi_stage_meta_args_and_target():
    df = parse_dockerfile("ARG V=1\nFROM busybox:$V AS one\nRUN a\nFROM scratch\nCOPY --from=one /a /a\n")
    assert [a.pairs for a in df.meta_args] == [[("V", "1")]]
    assert [(s.base, s.name) for s in df.stages] == [("busybox:$V", "one"), ("scratch", "")]
    copy = df.stages[1].commands[0]
    assert copy.flags == {"from": "one"} and copy.args == ["/a", "/a"]
    assert len(stages_for_target(df, "ONE")) == 1
    with pytest.raises(Exception, match="failed to reach build target nope"):
        stages_for_target(df, "nope")


def test_instruction_before_from_and_empty_file():
    with pytest.raises(DockerfileError, match="line 1: no build stage in current context"):
        parse_dockerfile("RUN true\nFROM x\n")
    with pytest.raises(DockerfileError, match="cannot be empty"):
        parse_dockerfile("# only a comment\n\n")


def test_flags_checked_per_instruction():
    with pytest.raises(DockerfileError, match="unknown flag: from"):
        parse_dockerfile("FROM x\nADD --from=y a b\n")
    with pytest.raises(DockerfileError, match="--mount option requires BuildKit"):
        parse_dockerfile("FROM x\nRUN --mount=type=cache,target=/x true\n")
    df = parse_dockerfile("FROM --platform=linux/amd64 x\nCOPY --chown=1:2 a b\n")
    assert df.stages[0].platform == "linux/amd64"
    assert df.stages[0].commands[0].flags == {"chown": "1:2"}


def test_from_argument_count_and_stage_names():
    with pytest.raises(DockerfileError, match="FROM requires either one or three arguments"):
        parse_dockerfile("FROM a b\n")
    with pytest.raises(DockerfileError, match="invalid name for build stage"):
        parse_dockerfile("FROM a AS 1x\n")


def test_onbuild_healthcheck_shell():
    df = parse_dockerfile('FROM x\nONBUILD RUN echo hi\nHEALTHCHECK --interval=5s --retries=3 CMD wget -q -O- x\n'
                          'HEALTHCHECK NONE\nSHELL ["/bin/bash", "-c"]\n')
    onbuild, hc, none, shell = df.stages[0].commands
    assert onbuild.sub is not None and onbuild.sub.kind == "run" and onbuild.sub.original == "RUN echo hi"
    assert hc.args == ["CMD-SHELL", "wget -q -O- x"] and hc.flags == {"interval": "5s", "retries": "3"}
    assert none.args == ["NONE"]
    assert shell.args == ["/bin/bash", "-c"]
    with pytest.raises(DockerfileError, match="ONBUILD ONBUILD"):
        parse_dockerfile("FROM x\nONBUILD ONBUILD RUN a\n")
    with pytest.raises(DockerfileError, match="SHELL requires the arguments to be in JSON form"):
        parse_dockerfile("FROM x\nSHELL /bin/bash -c\n")
    with pytest.raises(DockerfileError, match='Unknown type "FOO" in HEALTHCHECK'):
        parse_dockerfile("FROM x\nHEALTHCHECK FOO bar\n")


def test_copy_needs_a_destination():
    with pytest.raises(DockerfileError, match="COPY requires at least two arguments"):
        parse_dockerfile("FROM x\nCOPY onlyone\n")


_word = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
                                      blacklist_characters="\\\"'#\x1c\x1d\x1e\x1f\x85"),
                min_size=1, max_size=8)


@given(st.lists(_word, min_size=1, max_size=6))
def test_split_words_round_trips_plain_words(words):
    assert split_words(" ".join(words)) == words


@given(st.lists(_word, min_size=1, max_size=5))
def test_continuations_join_into_one_instruction(words):
    # RUN w1 \ (newline) w2 ...: the logical line is the words joined
    parts = ["RUN " + words[0]] + words[1:]
    lines = []
    for i, part in enumerate(parts):
        lines.append(part + (" \\" if i < len(parts) - 1 else ""))
    p = parse("FROM x\n" + "\n".join(lines) + "\n")
    assert len(p.nodes) == 2
    assert p.nodes[1].rest.split() == words


@given(st.text(max_size=200))
def test_parse_never_crashes(text):
    try:
        parse_dockerfile(text)
    except DockerfileError as e:
        assert e.message.startswith("dockerfile parse error on line ")
