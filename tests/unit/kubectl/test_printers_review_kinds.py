"""What skiff kubectl prints for a review kind's answer, as kubectl 1.32 prints it."""

from skiff.cli.kubectl.printers import kind_name, to_yaml


def test_an_object_without_a_name_is_unknown():
    answer = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
              "metadata": {"creationTimestamp": None}}
    assert kind_name(answer) == "selfsubjectaccessreview.authorization.k8s.io/<unknown>"
    assert kind_name({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}) == "pod/web"


def test_lone_yaml_indicators_are_single_quoted_like_go_yaml():
    rules = {"verbs": ["*"], "resources": ["&", "!"], "apiGroups": ["14", "x*"]}
    assert to_yaml(rules) == "apiGroups:\n- \"14\"\n- x*\nresources:\n- '&'\n- '!'\nverbs:\n- '*'\n"
