from skiff.cluster.kubelet import naming
from skiff.cluster.kubelet.command import entrypoint_and_cmd, expand

POD = {"metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "labels": {"app": "x"}},
       "spec": {"terminationGracePeriodSeconds": 5}}


def test_container_name_round_trips():
    name = naming.container_name("nginx", "web", "prod", "u-1", 3)
    assert name == "k8s_nginx_web_prod_u-1_3"
    assert naming.parse_name("/" + name) == naming.ContainerKey("nginx", "web", "prod", "u-1", 3)


def test_other_names_are_not_ours():
    for name in ("web", "k8s_a_b_c", "k8s_a_b_c_d_x", "x8s_a_b_c_d_1"):
        assert naming.parse_name(name) is None


def test_labels_carry_what_readoption_needs():
    sandbox = naming.sandbox_labels(POD)
    assert sandbox["app"] == "x"
    assert sandbox[naming.CONTAINER_TYPE] == "podsandbox"
    assert sandbox[naming.POD_UID] == "u-1"
    c = naming.container_labels(POD, "nginx", 2, init=True)
    assert c[naming.CONTAINER_NAME] == "nginx"
    assert c[naming.RESTART_COUNT] == "2"
    assert c[naming.INIT] == "true"
    assert c[naming.GRACE] == "5"


def test_command_and_args_table():
    # neither: the image's own entrypoint and cmd
    assert entrypoint_and_cmd({}, {}) == (None, None)
    # command only: the image's cmd is dropped
    assert entrypoint_and_cmd({"command": ["sleep"]}, {}) == (["sleep"], [])
    # args only: the image's entrypoint with these args
    assert entrypoint_and_cmd({"args": ["-c", "echo"]}, {}) == (None, ["-c", "echo"])
    # both
    assert entrypoint_and_cmd({"command": ["sh"], "args": ["-c", "x"]}, {}) == (["sh"], ["-c", "x"])


def test_variable_expansion():
    env = {"A": "1", "GREETING": "hi"}
    assert expand("$(GREETING) world $(A)", env) == "hi world 1"
    assert expand("$(MISSING) stays", env) == "$(MISSING) stays"
    assert expand("$$(A) is escaped", env) == "$(A) is escaped"
    assert entrypoint_and_cmd({"command": ["echo", "$(A)"], "args": ["$(GREETING)"]}, env) == (["echo", "1"], ["hi"])
