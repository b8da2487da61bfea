"""`skiff kubectl rolling-update`'s pure parts."""

from __future__ import annotations

import pytest

from skiff.cli.kubectl.rollingupdate import duration, template_hash
from skiff.cli.kubectl.session import CommandError


def test_go_durations():
    assert duration("1m0s") == 60 and duration("3s") == 3 and duration("100ms") == pytest.approx(0.1)
    assert duration("1h2m3s") == 3723 and duration("0") == 0
    with pytest.raises(CommandError, match='invalid duration "soon"'):
        duration("soon")


def test_template_hash_follows_the_template_only():
    a = {"metadata": {"name": "x"}, "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": "a"}]}}}}
    b = {"metadata": {"name": "y"}, "spec": {"replicas": 5, "template": {"spec": {"containers": [{"image": "a"}]}}}}
    c = {"spec": {"template": {"spec": {"containers": [{"image": "b"}]}}}}
    assert template_hash(a) == template_hash(b) != template_hash(c)
