import ssl

from cryptography import x509

from skiff.cluster.apiserver import certs, kubeconfig


def test_pki_is_made_once_and_covers_the_names(tmp_path):
    names = certs.serving_names("127.0.0.1", ("api.example",))
    pki = certs.ensure_pki(tmp_path, names)
    ca_before = pki.ca_cert.read_bytes()
    cert = x509.load_pem_x509_certificate(pki.serving_cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.example" in sans.get_values_for_type(x509.DNSName)
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert (pki.ca_key.stat().st_mode & 0o777) == 0o600
    certs.ensure_pki(tmp_path, names)
    assert pki.ca_cert.read_bytes() == ca_before


def test_serving_cert_reissued_for_new_names_with_same_ca(tmp_path):
    pki = certs.ensure_pki(tmp_path, certs.serving_names("127.0.0.1"))
    ca, before = pki.ca_cert.read_bytes(), pki.serving_cert.read_bytes()
    certs.ensure_pki(tmp_path, certs.serving_names("10.1.2.3"))
    assert pki.ca_cert.read_bytes() == ca
    assert pki.serving_cert.read_bytes() != before


def test_certificates_chain_to_the_ca(tmp_path):
    pki = certs.ensure_pki(tmp_path, certs.serving_names("127.0.0.1"))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.serving_cert, pki.serving_key)
    client = ssl.create_default_context(cafile=str(pki.ca_cert))
    client.load_cert_chain(pki.admin_cert, pki.admin_key)
    admin = x509.load_pem_x509_certificate(pki.admin_cert.read_bytes())
    assert admin.subject.rfc4514_string() == "CN=system:admin,O=system:masters"


def test_kubeconfig_holds_the_admin_credentials(tmp_path):
    import yaml

    pki = certs.ensure_pki(tmp_path, certs.serving_names("127.0.0.1"))
    path = tmp_path / "out" / "kubeconfig.yaml"
    kubeconfig.write(path, "https://127.0.0.1:6443", pki)
    doc = yaml.safe_load(path.read_text())
    assert doc["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    assert doc["users"][0]["user"]["client-key-data"]
    assert doc["current-context"] == "default"
    assert (path.stat().st_mode & 0o777) == 0o600
