"""Loading compose projects: file discovery, formats, .env, merging, extends, and the errors
docker-compose gives for bad files."""

import textwrap

import pytest

from skiff.compose.errors import ConfigError, SchemaError
from skiff.compose.loader import load_project, parse_env_file

FIG_SEED = """
web:
  build: .
  command: python app.py
  ports:
   - "5000:5000"
  volumes:
   - .:/code
  links:
   - redis
redis:
  image: redis
"""

# The shape of seed 001's Elasticsearch cluster (three nodes, memlock ulimits, named volumes).
ES_CLUSTER = """
version: '2.2'
services:
  es01:
    image: docker.elastic.co/elasticsearch/elasticsearch:7.2.0
    container_name: es01
    environment:
      - node.name=es01
      - discovery.seed_hosts=es02,es03
      - cluster.initial_master_nodes=es01,es02,es03
      - cluster.name=docker-cluster
      - bootstrap.memory_lock=true
      - "ES_JAVA_OPTS=-Xms512m -Xmx512m"
    ulimits:
      memlock:
        soft: -1
        hard: -1
    volumes:
      - data01:/usr/share/elasticsearch/data
    ports:
      - 9200:9200
    networks:
      - elastic
  es02:
    image: docker.elastic.co/elasticsearch/elasticsearch:7.2.0
    container_name: es02
    environment:
      - node.name=es02
      - discovery.seed_hosts=es01,es03
    ulimits:
      memlock: {soft: -1, hard: -1}
    volumes:
      - data02:/usr/share/elasticsearch/data
    networks:
      - elastic
  es03:
    image: docker.elastic.co/elasticsearch/elasticsearch:7.2.0
    container_name: es03
    environment: {node.name: es03}
    volumes:
      - data03:/usr/share/elasticsearch/data
    networks:
      - elastic
volumes:
  data01:
    driver: local
  data02:
    driver: local
  data03:
    driver: local
networks:
  elastic:
    driver: bridge
"""


def write(path, name, text):
    p = path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(textwrap.dedent(text))
    return p


def load(path, files=None, env=None, **kw):
    return load_project(str(path), files, environ=env or {}, **kw)


def test_fig_seed_version_1(tmp_path):
    d = tmp_path / "Fig_Test.1"
    write(d, "fig.yml", FIG_SEED)
    p = load(d)
    assert p.name == "fig_test1"  # docker-compose lower-cases and keeps only a-z0-9-_
    assert p.v1 and list(p.services) == ["web", "redis"]
    assert p.order() == ["redis", "web"]
    assert p.services["web"]["build"] == {"context": str(d)}
    assert p.services["web"]["volumes"] == [f"{d}:/code"]
    assert p.image_name("web") == "fig_test1_web" and p.image_name("redis") == "redis"
    assert p.container_name("redis", 1) == "fig_test1_redis_1"


def test_elasticsearch_cluster_loads(tmp_path):
    write(tmp_path, "docker-compose.yaml", ES_CLUSTER)
    p = load(tmp_path, project_name="ES")
    assert p.name == "es" and p.version == "2.2"
    assert list(p.services) == ["es01", "es02", "es03"]
    es01 = p.services["es01"]
    assert es01["environment"]["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m"
    assert es01["ulimits"] == {"memlock": {"soft": -1, "hard": -1}}
    assert es01["networks"] == {"elastic": {}}
    assert p.services["es03"]["environment"] == {"node.name": "es03"}
    assert p.network_name("elastic") == "es_elastic" and p.volume_name("data01") == "es_data01"
    assert p.container_name("es02", 1) == "es02"


def test_default_file_is_searched_upwards_and_override_merged(tmp_path):
    write(tmp_path, "docker-compose.yml", """
        version: "3.8"
        services:
          web:
            image: busybox
            command: sleep 1
            environment: {A: "1", B: "2"}
            ports: ["80"]
            volumes: ["/a:/data", "/b:/other"]
            dns: [1.1.1.1]
    """)
    write(tmp_path, "docker-compose.override.yml", """
        services:
          web:
            command: ["sleep", "2"]
            environment: ["B=3", "C=4"]
            ports: ["81"]
            volumes: ["/c:/data"]
            dns: 8.8.8.8
    """)
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    p = load(sub)
    assert p.working_dir == str(tmp_path) and p.name == tmp_path.name.lower().replace(".", "")
    web = p.services["web"]
    assert web["command"] == ["sleep", "2"]
    assert web["environment"] == {"A": "1", "B": "3", "C": "4"}
    assert web["ports"] == ["80", "81"]
    assert sorted(web["volumes"]) == ["/b:/other", "/c:/data"]
    assert web["dns"] == ["1.1.1.1", "8.8.8.8"]


def test_several_files_with_f(tmp_path):
    write(tmp_path, "base.yml", "services:\n  a:\n    image: busybox\n    labels: [x=1]\n")
    write(tmp_path, "more.yml", "services:\n  a:\n    labels: {y: '2'}\n  b:\n    image: busybox\n    depends_on: [a]\n")
    p = load(tmp_path, ["base.yml", "more.yml"])
    assert p.services["a"]["labels"] == {"x": "1", "y": "2"}
    assert p.order() == ["a", "b"]
    assert [f.rsplit("/", 1)[1] for f in p.config_files] == ["base.yml", "more.yml"]


def test_dot_env_interpolation_and_shell_wins(tmp_path):
    write(tmp_path, ".env", "TAG=1.0\n# comment\nexport PORT='8080'\nCOMPOSE_PROJECT_NAME=fromenv\n")
    write(tmp_path, "compose.yaml", """
        services:
          web:
            image: "busybox:${TAG}"
            ports: ["${PORT}:80"]
            environment: {HOME_DIR: "$$HOME", MODE: "${MODE:-dev}"}
    """)
    p = load(tmp_path, env={"TAG": "2.0"})
    assert p.services["web"]["image"] == "busybox:2.0"
    assert p.services["web"]["ports"] == ["8080:80"]
    assert p.services["web"]["environment"] == {"HOME_DIR": "$HOME", "MODE": "dev"}
    assert p.name == "fromenv"
    assert load(tmp_path, env={"COMPOSE_PROJECT_NAME": "Shell_Name"}).name == "shell_name"


def test_env_file_and_bare_environment_keys(tmp_path):
    write(tmp_path, "web.env", "A=from-file\nB=from-file\n")
    write(tmp_path, "docker-compose.yml", """
        version: "2"
        services:
          web:
            image: busybox
            env_file: web.env
            environment: [B=inline, FROM_SHELL, UNSET_ONE]
    """)
    p = load(tmp_path, env={"FROM_SHELL": "shell"})
    # bare keys stay unset in the model (docker-compose hashes them so) ...
    assert p.services["web"]["environment"] == {"A": "from-file", "B": "inline", "FROM_SHELL": None,
                                                "UNSET_ONE": None}
    # ... and take the shell's value in the container, or are left out
    from skiff.compose.spec import create_body

    body = create_body(p, "web", 1, containers={}, image_id=None, config_hash="h")
    assert body["Env"] == ["A=from-file", "B=inline", "FROM_SHELL=shell"]


def test_extends_same_file_and_other_file(tmp_path):
    write(tmp_path, "common.yml", """
        services:
          base:
            image: busybox
            environment: {LEVEL: base, KEEP: "1"}
            links: [other]
          other:
            image: busybox
    """)
    write(tmp_path, "docker-compose.yml", """
        version: "2.4"
        services:
          web:
            extends: {file: common.yml, service: base}
            environment: {LEVEL: web}
          worker:
            extends: web
            command: work
    """)
    p = load(tmp_path)
    assert p.services["web"]["image"] == "busybox"
    assert p.services["web"]["environment"] == {"LEVEL": "web", "KEEP": "1"}
    assert "links" not in p.services["web"]
    assert p.services["worker"]["command"] == "work"
    assert p.services["worker"]["environment"]["LEVEL"] == "web"


def test_extends_cycle(tmp_path):
    write(tmp_path, "docker-compose.yml", """
        services:
          a: {extends: b, image: busybox}
          b: {extends: a}
    """)
    with pytest.raises(ConfigError, match="Circular reference:\n  a in .*\n  extends b in .*\n  extends a in"):
        load(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("services:\n  web:\n    image: busybox\n    depends_on: [db]\n",
     "Service 'web' depends on service 'db' which is undefined."),
    ("services:\n  web:\n    image: busybox\n    links: ['db:database']\n",
     "Service 'web' has a link to service 'db:database' which is undefined."),
    ("services:\n  web:\n    image: busybox\n    network_mode: 'service:db'\n",
     "Service 'web' uses the network stack of service 'db' which is undefined."),
    ("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, links: [a]}\n",
     "Circular dependency between a and b"),
    ("services:\n  a: {image: x, depends_on: [a]}\n", "A service can not depend on itself: a"),
    ("services:\n  web: {command: x}\n",
     "Service web has neither an image nor a build context specified. At least one must be provided."),
    ("version: '7'\nservices: {}\n", 'Version in "./docker-compose.yml" is unsupported.'),
    ("- a\n- b\n", "Top level object in './docker-compose.yml' needs to be an object not '<class 'list'>'."),
    ("services:\n  web:\n    image: x\n    networks: [back]\n", 'Service "web" uses an undefined network "back"'),
])
def test_config_errors(tmp_path, text, message):
    write(tmp_path, "docker-compose.yml", text)
    with pytest.raises(ConfigError) as e:
        load(tmp_path)
    assert e.value.message.startswith(message)


@pytest.mark.parametrize("text, message", [
    ("services:\n  web:\n    image: busybox\n    volume: [/a:/b]\n",
     "Unsupported config option for services.web: 'volume' (did you mean 'volumes'?)"),
    ("services:\n  web:\n    image: busybox\n    ports: 80\n",
     "services.web.ports contains an invalid type, it should be an array"),
    ("services:\n  web:\n    image: [busybox]\n", "services.web.image contains an invalid type, it should be a string"),
    ("services:\n  web:\n    image: busybox\n    privileged: 'yes'\n",
     "services.web.privileged contains an invalid type, it should be a boolean"),
    ("web:\n  image: busybox\n  depends_on: [x]\n", "Unsupported config option for web: 'depends_on'"),
    ("version: '3'\nservices: {}\nextra: 1\n", 'Invalid top-level property "extra".'),
])
def test_schema_errors(tmp_path, text, message):
    write(tmp_path, "docker-compose.yml", text)
    with pytest.raises(SchemaError) as e:
        load(tmp_path)
    assert e.value.message.startswith(message)
    assert e.value.path == "./docker-compose.yml"


def test_malformed_yaml_names_file_and_line(tmp_path):
    write(tmp_path, "docker-compose.yml", "services:\n  web:\n    image: busybox\n   bad\n")
    with pytest.raises(ConfigError) as e:
        load(tmp_path)
    assert e.value.message.startswith("yaml.")
    assert 'in "./docker-compose.yml", line 4' in e.value.message


def test_no_file_found(tmp_path):
    with pytest.raises(ConfigError, match="Can't find a suitable configuration file in this directory or any"):
        load(tmp_path)


def test_parse_env_file():
    assert parse_env_file('A=1\n\n#x\nB="two words"\nexport C=3\nD\nE=\n') == \
        {"A": "1", "B": "two words", "C": "3", "E": ""}


def test_compose_file_variable_stdin_and_project_directory(tmp_path):
    write(tmp_path, "a.yml", "services:\n  a: {image: x}\n")
    write(tmp_path, "b.yml", "services:\n  b: {image: x}\n")
    p = load(tmp_path, env={"COMPOSE_FILE": "a.yml:b.yml"})
    assert list(p.services) == ["a", "b"]
    p = load(tmp_path, ["-"], stdin_text="services:\n  fromstdin: {image: x}\n")
    assert list(p.services) == ["fromstdin"] and p.working_dir == str(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    p = load(tmp_path, ["a.yml"], project_directory=str(other))
    assert p.working_dir == str(other) and p.name == "elsewhere"


def test_missing_file_given_with_f(tmp_path):
    with pytest.raises(ConfigError, match="No such file or directory"):
        load(tmp_path, ["nope.yml"])
