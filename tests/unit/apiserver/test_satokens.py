from skiff.cluster.apiserver import satokens
from skiff.cluster.apiserver.authn import service_account_user


def _signer(tmp_path):
    return satokens.Signer(satokens.load_or_create_key(tmp_path / "sa.key"))


def test_issue_and_verify(tmp_path):
    signer = _signer(tmp_path)
    claims = satokens.Claims("ns", "builder", "uid-1", ("api",), expires=2_000, pod=("p", "pod-uid"))
    token = signer.issue(claims, now=1_000)
    assert signer.verify(token, now=1_500) == claims
    assert signer.verify(token, now=2_000) is None  # expired
    user = service_account_user(claims)
    assert user.name == "system:serviceaccount:ns:builder" and "system:serviceaccounts:ns" in user.groups


def test_tampered_or_foreign_tokens_fail(tmp_path):
    signer = _signer(tmp_path)
    token = signer.issue(satokens.Claims("ns", "a", "u", ("api",), expires=2_000), now=1_000)
    head, body, sig = token.split(".")
    forged = satokens._b64(satokens._unb64(body).replace(b'"a"', b'"b"'))
    assert signer.verify(f"{head}.{forged}.{sig}", now=1_500) is None
    other = satokens.Signer(satokens.load_or_create_key(tmp_path / "other.key"))
    assert other.verify(token, now=1_500) is None
    assert signer.verify("not.a.jwt", now=1_500) is None


def test_key_is_kept(tmp_path):
    a = satokens.load_or_create_key(tmp_path / "k")
    b = satokens.load_or_create_key(tmp_path / "k")
    assert a.private_numbers() == b.private_numbers()
