from skiff.cluster.apiserver.metrics import Metrics


def test_request_counter_and_histogram_text():
    m = Metrics()
    m.request("GET", "", "v1", "pods", "", "namespace", 200, 0.003)
    m.request("GET", "", "v1", "pods", "", "namespace", 200, 0.3)
    m.request("POST", "apps", "v1", "deployments", "", "namespace", 409, 0.01)
    text = m.render()
    assert ('apiserver_request_total{code="200",group="",resource="pods",scope="namespace",subresource="",'
            'verb="GET",version="v1"} 2') in text
    assert 'code="409"' in text
    bucket = ('apiserver_request_duration_seconds_bucket{group="",resource="pods",scope="namespace",'
              'subresource="",verb="GET",version="v1",le="0.005"} 1')
    assert bucket in text
    assert 'le="+Inf"} 2' in text
    assert "# TYPE apiserver_request_duration_seconds histogram" in text


def test_watch_gauge_and_storage_latency():
    m = Metrics()
    m.watch_opened("", "pods")
    m.watch_opened("", "pods")
    m.watch_closed("", "pods")
    m.storage_call("get", "pods", 0.001)
    text = m.render()
    assert 'apiserver_longrunning_requests{group="",resource="pods",verb="WATCH"} 1' in text
    assert 'etcd_request_duration_seconds_count{operation="get",type="pods"} 1' in text
