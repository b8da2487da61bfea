import base64
import json

import pytest

from skiff.cluster.apiserver import continuetoken

PREFIX = "/registry/pods/default/"


def test_round_trip_keeps_revision_and_key():
    token = continuetoken.encode(42, PREFIX + "web-1", PREFIX)
    assert continuetoken.decode(token, PREFIX) == (42, PREFIX + "web-1")


def test_token_is_kubernetes_shaped():
    token = continuetoken.encode(7, PREFIX + "a", PREFIX)
    data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert data == {"v": "meta.k8s.io/v1", "rv": 7, "start": "a\x00"}


@pytest.mark.parametrize("token", ["!!!", base64.b64encode(b'{"v":"x","rv":1,"start":"a"}').decode(),
                                   base64.b64encode(b'{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').decode(),
                                   base64.b64encode(b'{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}').decode()])
def test_bad_tokens_are_refused(token):
    with pytest.raises(continuetoken.InvalidToken):
        continuetoken.decode(token, PREFIX)
