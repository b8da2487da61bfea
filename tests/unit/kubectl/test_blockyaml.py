"""The kubeconfig YAML subset parser: the same documents as PyYAML, or None to hand over."""

import pytest
import yaml

from skiff.cluster.client import blockyaml

KUBECONFIGS = [
    # as `skiff server` writes it
    "apiVersion: v1\nkind: Config\nclusters:\n- name: default\n  cluster:\n    server: https://127.0.0.1:6443\n"
    "    certificate-authority-data: LS0tLS1CRUdJTg==\nusers:\n- name: default\n  user:\n"
    "    client-certificate-data: QUJD\n    client-key-data: REVG\ncontexts:\n- name: default\n  context:\n"
    "    cluster: default\n    user: default\ncurrent-context: default\npreferences: {}\n",
    # as kubectl writes it (sequence items at the key's indentation), with comments and quoting
    "# written by kubectl\n---\napiVersion: v1\nclusters:\n- cluster:\n    insecure-skip-tls-verify: true\n"
    "    server: \"https://[::1]:6443\"\n  name: 'it''s'\ncontexts:\n- context:\n    cluster: it's\n"
    "    namespace: kube-system   # where we work\n    user: u\n  name: c\ncurrent-context: c\nkind: Config\n"
    "preferences: {}\nusers:\n- name: u\n  user:\n    token: abc  # secret\n    exec:\n      args:\n"
    "      - get-token\n      - --cluster=x\n      command: aws\n      env: []\n      apiVersion: v1\n",
    "a:\n  - 1\n  - -2\n  - '007'\n  - x007\n  - ~\n  - null\n  -\n    b: c\nd: FALSE\n",
]


@pytest.mark.parametrize("text", KUBECONFIGS)
def test_same_as_pyyaml(text):
    parsed = blockyaml.parse(text)
    assert parsed is not None
    assert parsed == yaml.safe_load(text)


@pytest.mark.parametrize("text", [
    "a: &anchor 1\nb: *anchor\n", "a: |\n  block\n", "a: >\n  folded\n", "a: [1, 2]\n", "a: {b: 1}\n",
    "a: 1.5\n", "a: !!str 1\n", "a:\n  b: 1\n c: 2\n", "- a\n -b\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n",
    "? complex\n: key\n", "a: 'unterminated\n", "a: 010\n", "a: 0x1F\n", "a: 1:30\n", "a: 2001-12-14\n", "a: yes\n", "a: .inf\n", "a: 007x\n", "",
])
def test_outside_the_subset_is_handed_over(text):
    assert blockyaml.parse(text) is None
