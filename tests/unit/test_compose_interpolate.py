"""Variable substitution in compose files, as docker-compose 1.29 does it."""

import pytest

from skiff.compose.errors import ConfigError
from skiff.compose.interpolate import interpolate_section, substitute

ENV = {"A": "apple", "EMPTY": "", "PORT": "8080"}


@pytest.mark.parametrize("text, expected", [
    ("$A", "apple"),
    ("${A}", "apple"),
    ("x${A}y", "xappley"),
    ("$A-$A", "apple-apple"),
    ("$$A", "$A"),
    ("$$", "$"),
    ("${MISSING}", ""),
    ("${MISSING:-dflt}", "dflt"),
    ("${MISSING-dflt}", "dflt"),
    ("${EMPTY:-dflt}", "dflt"),
    ("${EMPTY-dflt}", ""),
    ("${A:-dflt}", "apple"),
    ("${EMPTY?err}", ""),
    ("port ${PORT}:80", "port 8080:80"),
    ("no variables", "no variables"),
])
def test_substitute(text, expected):
    assert substitute(text, ENV) == expected


@pytest.mark.parametrize("text", ["${", "${A", "$ {A}", "${A B}", "${1A}"])
def test_malformed_is_an_error_naming_option_and_service(text):
    with pytest.raises(ConfigError) as e:
        interpolate_section({"web": {"image": text}}, ENV, "service")
    assert e.value.message == f'Invalid interpolation format for "image" option in service "web": "{text}"'


def test_required_variable_missing():
    with pytest.raises(ConfigError) as e:
        interpolate_section({"web": {"environment": {"X": "${NEED?set NEED first}"}}}, ENV, "service")
    assert e.value.message == ('Missing mandatory value for "environment" option interpolating '
                               '${NEED?set NEED first} in service "web": set NEED first')
    with pytest.raises(ConfigError):
        interpolate_section({"web": {"image": "${EMPTY:?no}"}}, ENV, "service")


def test_nested_values_and_unset_warning():
    warnings = []
    out = interpolate_section({"web": {"ports": ["${PORT}:80", 90], "labels": {"a": "$A"},
                                       "command": "echo $NOPE $$HOME"}}, ENV, "service", warnings.append)
    assert out == {"web": {"ports": ["8080:80", 90], "labels": {"a": "apple"}, "command": "echo  $HOME"}}
    assert warnings == ['The "NOPE" variable is not set. Defaulting to a blank string.']
