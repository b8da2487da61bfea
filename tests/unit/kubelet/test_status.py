

def test_sent_form_ignores_condition_timestamps_only():
    from skiff.cluster.kubelet.status import sent_form
    a = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t1"}]}
    b = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t2"}]}
    c = {"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "t1"}]}
    assert sent_form(a) == sent_form(b) != sent_form(c)
    assert sent_form({**a, "podIP": "10.0.0.2"}) != sent_form(a)
