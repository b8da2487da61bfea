import pytest

from skiff.cli.flags import UsageError, format_flags, parse, parse_table

TABLE = parse_table("""
 -d --detach bool  Run in background
 -e --env list  Set environment variables
 -h --hostname string  Container host name
 -n --last int=-1  Show n last
    --name string  Assign a name
 -i --interactive bool  Keep STDIN open
 -t --tty bool  Allocate a pseudo-TTY
 -p --publish list  Publish ports
    --secret string!  hidden
""")


def test_long_and_short_forms():
    opts, args = parse(TABLE, ["--name=x", "-e", "A=1", "-eB=2", "-e=C=3", "--env", "D=4", "img"])
    assert opts.name == "x"
    assert opts.env == ["A=1", "B=2", "C=3", "D=4"]
    assert args == ["img"]
    assert "env" in opts.given and "detach" not in opts.given


def test_combined_short_bools_and_value():
    opts, args = parse(TABLE, ["-itd", "-p8080:80", "img"])
    assert opts.interactive and opts.tty and opts.detach
    assert opts.publish == ["8080:80"]


def test_bool_with_explicit_value():
    opts, _ = parse(TABLE, ["--detach=false", "-t=true"])
    assert opts.detach is False and opts.tty is True


def test_not_interspersed_stops_at_first_positional():
    opts, args = parse(TABLE, ["-d", "busybox", "ls", "-l", "--name", "x"], interspersed=False)
    assert opts.detach and opts.name == ""
    assert args == ["busybox", "ls", "-l", "--name", "x"]


def test_interspersed_and_double_dash():
    opts, args = parse(TABLE, ["a", "-d", "--", "-t"])
    assert opts.detach and not opts.tty
    assert args == ["a", "-t"]


def test_defaults_and_ints():
    opts, _ = parse(TABLE, [])
    assert opts.last == -1 and opts.env == [] and opts.name == ""
    opts, _ = parse(TABLE, ["-n", "3"])
    assert opts.last == 3


def test_h_is_hostname_when_declared_help_otherwise():
    opts, _ = parse(TABLE, ["-h", "box"])
    assert opts.hostname == "box" and not opts.help
    opts, _ = parse(parse_table(" -q --quiet bool  Only IDs"), ["-h"])
    assert opts.help


@pytest.mark.parametrize("argv, message", [
    (["--foo"], "unknown flag: --foo"),
    (["-x"], "unknown shorthand flag: 'x' in -x"),
    (["-e"], "flag needs an argument: 'e' in -e"),
    (["--name"], "flag needs an argument: --name"),
    (["-n", "abc"], 'invalid argument "abc" for "-n, --last" flag: strconv.ParseInt: parsing "abc": invalid syntax'),
    (["--detach=maybe"], 'invalid argument "maybe" for "-d, --detach" flag'),
])
def test_errors(argv, message):
    with pytest.raises(UsageError) as e:
        parse(TABLE, argv)
    assert e.value.message.startswith(message)
    assert e.value.status == 125


def test_help_listing_is_sorted_aligned_and_hides_hidden():
    text = format_flags(TABLE)
    lines = text.splitlines()
    assert lines[0].startswith("  -d, --detach")
    assert "secret" not in text
    assert "      --name string" in text
    assert "(default -1)" in text
    assert len({line.index(line.split("   ")[-1].strip()) for line in lines}) == 1
