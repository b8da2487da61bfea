import pytest

from skiff.cluster.apiserver.authn import Authenticator, parse_token_file, user_from_peercert


def test_client_certificate_subject_gives_user_and_groups():
    cert = {"subject": ((("organizationName", "system:masters"),), (("commonName", "system:admin"),))}
    user = user_from_peercert(cert)
    assert user is not None and user.name == "system:admin"
    assert "system:masters" in user.groups


def test_no_certificate_is_no_user():
    assert user_from_peercert(None) is None
    assert user_from_peercert({}) is None


def test_token_file_format(tmp_path):
    users = parse_token_file('tok1,alice,1001,"dev,ops"\n# comment\ntok2,bob,1002\n')
    assert users["tok1"].name == "alice" and users["tok1"].groups[:2] == ("dev", "ops")
    assert users["tok2"].uid == "1002"
    with pytest.raises(ValueError):
        parse_token_file("only-a-token\n")


def test_bearer_tokens(tmp_path):
    path = tmp_path / "tokens.csv"
    path.write_text("secret,alice,1\n")
    auth = Authenticator(path, join_token="join-me")
    assert auth.authenticate(None, "Bearer secret").name == "alice"
    assert auth.authenticate(None, "Bearer join-me").name == "node"
    assert auth.authenticate(None, "Bearer wrong") is None
    assert auth.authenticate(None, "Basic secret") is None
    assert auth.authenticate(None, "") is None
