"""Offline checks of the deployment files.

No Docker engine or Kubernetes cluster runs on the development machines, so the compose
file, the Dockerfile, the Prometheus and Grafana configuration and the Kubernetes manifests
are checked by parsing them and asserting what they say: each service's database, broker
address, command, probes and limits; that the dashboards and alerts use only metrics the
services expose; and that no password has a default.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"

SERVICES = ("identity", "records", "analytics", "documents")
HOST_PORTS = {"identity": 8001, "records": 8002, "analytics": 8003, "documents": 8004}
COMPOSE_NAMES = {"kafka", "postgres", "prometheus", "grafana", *SERVICES}

# The metrics the services expose, with their labels (from the platform conventions).
METRICS: dict[str, set[str]] = {
    "eduhub_http_requests_total": {"service", "method", "route", "status"},
    "eduhub_http_request_seconds_bucket": {"service", "route", "le"},
    "eduhub_outbox_pending": {"service"},
    "eduhub_events_published_total": {"service", "topic"},
    "eduhub_events_consumed_total": {"service", "topic", "outcome"},
    "eduhub_consumer_lag": {"service", "group", "topic"},
    "eduhub_event_to_aggregate_seconds_bucket": {"service", "le"},
    "eduhub_learners_enrolled": {"province", "commune"},
    # sector health gauges of analytics (services/analytics/gauges.py)
    "eduhub_nutrition_learners": {"province", "commune", "status"},
    "eduhub_nutrition_stunted_learners": {"province", "commune"},
    "eduhub_swimming_assessed_learners": {"province", "commune"},
    "eduhub_swimming_non_swimmers": {"province", "commune"},
    "eduhub_swimming_non_swimmer_share": {"province", "commune"},
    "eduhub_eye_examined_learners": {"province", "commune"},
    "eduhub_eye_condition_learners": {"province", "commune", "condition"},
    "eduhub_health_gauge_campaign": {"source", "campaign"},
}
# Labels a sector gauge may carry besides province and commune: each has a fixed, small set.
BOUNDED_EXTRA_LABELS = {"status", "condition"}
OUTCOMES = {"applied", "duplicate", "dead_lettered", "retried"}
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series

PROMQL_FUNCTIONS = {
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "topk",
    "bottomk",
    "quantile",
    "group",
    "rate",
    "irate",
    "increase",
    "delta",
    "deriv",
    "histogram_quantile",
    "sort",
    "sort_desc",
    "vector",
    "abs",
    "clamp_min",
    "clamp_max",
    "absent",
    "scalar",
    "max_over_time",
    "min_over_time",
    "avg_over_time",
}
PROMQL_KEYWORDS = {
    "by",
    "without",
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_yaml_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = load_yaml(ROOT / "docker-compose.yml")
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data = json.loads((DEPLOY / "grafana/dashboards/eduhub-overview.json").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def k8s_docs() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs.extend(load_yaml_all(path))
    return docs


# --- a small PromQL reader: which metrics and labels does an expression use? -----------


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)


def promql_usage(expr: str) -> tuple[set[str], dict[str, set[str]], set[str]]:
    """Return (metric names, labels matched per metric, labels grouped by) of `expr`.

    Raises AssertionError on an identifier that is neither a metric, a function nor a
    keyword, so that a typo in a function name does not pass as an unknown metric.
    """
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    expr = _strip_strings(expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors and subqueries

    grouped: set[str] = set()

    def take_grouping(match: re.Match[str]) -> str:
        grouped.update(name.strip() for name in match.group(2).split(",") if name.strip())
        return " "

    expr = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", take_grouping, expr
    )

    matched: dict[str, set[str]] = {}

    def take_selector(match: re.Match[str]) -> str:
        metric = match.group(1)
        labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", match.group(2)))
        if metric:
            matched.setdefault(metric, set()).update(labels)
            return f" {metric} "
        matched.setdefault("", set()).update(labels)
        return " "

    expr = re.sub(r"([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", take_selector, expr)

    metrics: set[str] = set()
    for match in re.finditer(r"[A-Za-z_:][\w:]*", expr):
        word = match.group(0)
        following = expr[match.end() :].lstrip()
        if word.lower() in PROMQL_KEYWORDS:
            continue
        if following.startswith("("):
            assert word in PROMQL_FUNCTIONS, f"unknown PromQL function {word!r}"
            continue
        if re.fullmatch(r"\d+[smhdwy]", word):
            continue
        metrics.add(word)
    metrics.update(name for name in matched if name)
    return metrics, matched, grouped


def test_metrics_are_the_ones_the_code_defines() -> None:
    """Every metric the dashboard and alerts may use is registered by the platform library or
    the analytics gauges with these labels (counters scrape as _total, histograms as _bucket),
    and every analytics gauge is among them (so it has a panel)."""
    from prometheus_client.metrics import MetricWrapperBase

    from services.analytics import gauges
    from shared.observability import metrics

    defined: dict[str, set[str]] = {}
    for module in (metrics, gauges):
        for item in vars(module).values():
            if isinstance(item, MetricWrapperBase):
                kind, name, labels = item._type, item._name, set(item._labelnames)
                if kind == "counter":
                    defined[f"{name}_total"] = labels
                elif kind == "histogram":
                    defined[f"{name}_bucket"] = labels | {"le"}
                else:
                    defined[name] = labels
    for name, labels in METRICS.items():
        assert defined.get(name) == labels, f"{name}: the code registers {defined.get(name)}"
    sector = {f"{g._name}" for g in vars(gauges).values() if isinstance(g, MetricWrapperBase)}
    assert sector <= set(METRICS), f"gauges without a dashboard panel: {sector - set(METRICS)}"


def test_sector_gauges_have_bounded_labels() -> None:
    """Province and commune only (plus a fixed status or condition): never school, class or
    learner, so the series stay about (communes + provinces) x statuses."""
    for name, labels in METRICS.items():
        if name.startswith(("eduhub_nutrition", "eduhub_swimming", "eduhub_eye", "eduhub_learn")):
            assert {"province", "commune"} <= labels, name
            assert labels - {"province", "commune"} <= BOUNDED_EXTRA_LABELS, name


def test_promql_reader_finds_metrics_and_labels() -> None:
    metrics, matched, grouped = promql_usage(
        "histogram_quantile(0.95, sum by (service, le) "
        '(rate(eduhub_http_request_seconds_bucket{service=~"$service"}[$__rate_interval])))'
        " / on (service) group_left sum by (service) (eduhub_outbox_pending)"
    )
    assert metrics == {"eduhub_http_request_seconds_bucket", "eduhub_outbox_pending"}
    assert matched == {"eduhub_http_request_seconds_bucket": {"service"}}
    assert grouped == {"service", "le"}
    assert promql_usage('up{job="records"} == 0')[0] == {"up"}
    with pytest.raises(AssertionError):
        promql_usage("rat(eduhub_outbox_pending[5m])")


def check_promql(expr: str, allowed: dict[str, set[str]]) -> set[str]:
    metrics, matched, grouped = promql_usage(expr)
    unknown = metrics - set(allowed)
    assert not unknown, f"{expr!r} uses metrics the services do not expose: {unknown}"
    assert metrics, f"{expr!r} uses no metric"
    for metric, labels in matched.items():
        known = (allowed[metric] if metric else set().union(*allowed.values())) | TARGET_LABELS
        assert labels <= known, f"{expr!r}: {metric} has no label(s) {labels - known}"
    available = set().union(*(allowed[m] for m in metrics)) | TARGET_LABELS
    assert grouped <= available, f"{expr!r} groups by unknown label(s) {grouped - available}"
    for outcome in re.findall(r'outcome\s*=~?\s*"([^"]*)"', expr):
        assert outcome in OUTCOMES, f"{expr!r}: unknown outcome {outcome!r}"
    return metrics


# --- docker-compose.yml ------------------------------------------------------------------


def test_compose_names_every_component(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == COMPOSE_NAMES
    assert set(compose["volumes"]) >= {
        "kafka-data",
        "postgres-data",
        "prometheus-data",
        "grafana-data",
    }


@pytest.mark.parametrize("name", SERVICES)
def test_compose_service_wiring(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    env = service["environment"]

    assert service["command"] == ["python", "-m", f"services.{name}"]
    assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    assert env["DATABASE_URL"] == (
        "postgresql://eduhub:${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
        f"@postgres:5432/eduhub_{name}"
    )
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:29092"
    assert env["HTTP_PORT"] == "8000"
    assert env["EDUHUB_ENV"] == "production"
    assert env["JWT_PUBLIC_KEY_FILE"] == "/run/secrets/jwt-public.pem"
    assert env["JWT_AUDIENCE"] == "${JWT_AUDIENCE:-eduhub}"
    assert {"JWT_ISSUER", "LOG_LEVEL"} <= set(env)
    assert service["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "postgres": {"condition": "service_healthy"},
    }
    assert service["ports"] == [f"{HOST_PORTS[name]}:8000"]
    assert "/healthz" in " ".join(service["healthcheck"]["test"])

    mounts = [m for m in service["volumes"] if isinstance(m, dict)]
    assert {
        "type": "bind",
        "source": "./deploy/secrets/jwt-public.pem",
        "target": "/run/secrets/jwt-public.pem",
        "read_only": True,
        "bind": {"create_host_path": False},
    } in mounts


def test_compose_documents_signing_and_file_drop(compose: dict[str, Any]) -> None:
    documents = compose["services"]["documents"]
    env = documents["environment"]
    targets = {
        v["target"] if isinstance(v, dict) else v.split(":")[1] for v in documents["volumes"]
    }
    assert "/run/secrets/documents" in targets and env["EDXML_DROP_DIR"] in targets
    for name in ("DOCUMENTS_SIGNER_P12", "DOCUMENTS_SEAL_P12", "DOCUMENTS_TRUST_ROOTS"):
        assert env[name].startswith("/run/secrets/documents/")
    # no default for secrets or the agency code: compose refuses to start without them
    for name in (
        "DOCUMENTS_SIGNER_P12_PASSWORD",
        "DOCUMENTS_SEAL_P12_PASSWORD",
        "EDXML_AGENCY_CODE",
    ):
        assert ":?" in env[name]


def test_compose_services_use_distinct_databases(compose: dict[str, Any]) -> None:
    urls = [compose["services"][name]["environment"]["DATABASE_URL"] for name in SERVICES]
    databases = [url.rsplit("/", 1)[1] for url in urls]
    assert databases == [f"eduhub_{name}" for name in SERVICES]


def test_compose_kafka_is_single_node_kraft_with_two_listeners(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"] == "apache/kafka:4.1.0"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:29093"
    advertised = dict(
        item.split("://", 1)[::-1] for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    assert advertised == {"kafka:29092": "PLAINTEXT", "localhost:9092": "PLAINTEXT_HOST"}
    listeners = {item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")}
    protocol_map = dict(
        p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert listeners == set(protocol_map) == {"PLAINTEXT", "PLAINTEXT_HOST", "CONTROLLER"}
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == 1
    assert env["KAFKA_NUM_PARTITIONS"] == 3
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    assert kafka["ports"] == ["127.0.0.1:9092:9092"]
    assert "kafka-data:/var/lib/kafka/data" in kafka["volumes"]
    assert "kafka-broker-api-versions.sh" in " ".join(kafka["healthcheck"]["test"])


def test_compose_postgres(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["image"] == "postgres:18"
    assert postgres["environment"]["POSTGRES_USER"] == "eduhub"
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    # PostgreSQL 18 images refuse a volume at the old /var/lib/postgresql/data path.
    assert "postgres-data:/var/lib/postgresql" in postgres["volumes"]
    assert (
        "./deploy/postgres/init-databases.sql:/docker-entrypoint-initdb.d/10-init-databases.sql:ro"
    ) in postgres["volumes"]
    test = postgres["healthcheck"]["test"]
    assert test[:2] == ["CMD", "pg_isready"]
    assert test[test.index("-h") + 1] == "127.0.0.1"


def test_init_script_creates_each_service_database() -> None:
    sql = (DEPLOY / "postgres/init-databases.sql").read_text("utf-8")
    created = re.findall(r"'(eduhub_\w+)'", sql)
    assert created == [f"eduhub_{name}" for name in SERVICES]
    assert "CREATE DATABASE %I" in sql
    assert "\\gexec" in sql
    for name in SERVICES:
        assert f"REVOKE ALL ON DATABASE eduhub_{name} FROM PUBLIC;" in sql


def test_compose_monitoring(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    assert (
        "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"
        in (prometheus["volumes"])
    )
    assert "./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]

    grafana = compose["services"]["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    assert grafana["ports"] == ["3000:3000"]
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == (
        "${GRAFANA_ADMIN_PASSWORD:?set GRAFANA_ADMIN_PASSWORD}"
    )
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert mounts["./deploy/grafana/provisioning/datasources"] == (
        "/etc/grafana/provisioning/datasources"
    )
    assert mounts["./deploy/grafana/provisioning/dashboards"] == (
        "/etc/grafana/provisioning/dashboards"
    )
    providers = load_yaml(DEPLOY / "grafana/provisioning/dashboards/dashboards.yml")["providers"]
    assert [p["options"]["path"] for p in providers] == [mounts["./deploy/grafana/dashboards"]]
    for source in mounts:
        if source.startswith("./"):
            assert (ROOT / source).exists(), source


# --- Prometheus ---------------------------------------------------------------------------


def test_prometheus_scrapes_all_four_services() -> None:
    config = load_yaml(DEPLOY / "prometheus/prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name in SERVICES:
        job = jobs[name]
        assert job["metrics_path"] == "/metrics"
        assert job["static_configs"] == [{"targets": [f"{name}:8000"]}]
        # a target `service` label would clash with the one the services export
        assert "labels" not in job["static_configs"][0]
    assert config["rule_files"] == ["alerts.yml"]


def test_alert_rules_cover_outbox_lag_dlq_and_down() -> None:
    groups = load_yaml(DEPLOY / "prometheus/alerts.yml")["groups"]
    rules = {rule["alert"]: rule for group in groups for rule in group["rules"]}
    allowed = {**METRICS, "up": set()}
    for group in groups:
        # sector conditions are for the Department's follow-up, never for a pager
        severities = {"info"} if group["name"] == "eduhub-sector" else {"warning", "critical"}
        for rule in group["rules"]:
            assert rule["labels"]["severity"] in severities, rule["alert"]
    for name, rule in rules.items():
        check_promql(rule["expr"], allowed)
        assert rule["annotations"]["summary"], name

    assert "deriv(eduhub_outbox_pending" in rules["EduhubOutboxGrowing"]["expr"]
    assert "eduhub_consumer_lag" in rules["EduhubConsumerLagHigh"]["expr"]
    assert 'outcome="dead_lettered"' in rules["EduhubEventsDeadLettered"]["expr"]
    swimmers = rules["EduhubNonSwimmerShareHigh"]["expr"]
    assert "eduhub_swimming_non_swimmer_share" in swimmers
    assert "eduhub_swimming_assessed_learners" in swimmers
    down = rules["EduhubServiceDown"]["expr"]
    assert down.startswith("up{") and down.endswith("== 0")
    assert all(name in down for name in SERVICES)


# --- Grafana ------------------------------------------------------------------------------


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def test_dashboard_uses_only_exposed_metrics(dashboard: dict[str, Any]) -> None:
    used: set[str] = set()
    exprs = 0
    for panel in _panels(dashboard):
        for target in panel.get("targets", []):
            used |= check_promql(target["expr"], METRICS)
            exprs += 1
    assert exprs >= 13
    assert used == set(METRICS), f"metrics without a panel: {set(METRICS) - used}"

    variables = dashboard["templating"]["list"]
    assert [v["name"] for v in variables] == ["service", "province"]
    for variable in variables:
        query = re.fullmatch(r"label_values\((\w+),\s*(\w+)\)", variable["query"]["query"])
        assert query, variable["query"]
        metric, label = query.groups()
        assert label in METRICS[metric]
        assert label == variable["name"]


def test_dashboard_structure(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] == "eduhub-overview"
    assert dashboard["schemaVersion"] == 39
    datasource = load_yaml(DEPLOY / "grafana/provisioning/datasources/prometheus.yml")
    (prometheus,) = datasource["datasources"]
    assert prometheus["url"] == "http://prometheus:9090"

    panels = _panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        cells = {
            (grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])
        }
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": prometheus["uid"]}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == prometheus["uid"]

    by_title = {p["title"]: p for p in panels}
    assert by_title["HTTP request rate by service"]["type"] == "timeseries"
    assert (
        "histogram_quantile(0.95" in by_title["HTTP p95 latency by service"]["targets"][0]["expr"]
    )
    latency = [t["expr"] for t in by_title["Event-to-aggregate latency"]["targets"]]
    assert [e.split(",")[0] for e in latency] == [
        "histogram_quantile(0.50",
        "histogram_quantile(0.99",
    ]
    table = by_title["Learners enrolled by commune"]
    assert table["type"] == "table"
    assert table["targets"][0]["format"] == "table"
    assert 'commune!=""' in table["targets"][0]["expr"]
    total = by_title["Learners enrolled (province total)"]
    assert total["type"] == "stat"
    assert 'commune=""' in total["targets"][0]["expr"]
    assert 'outcome="dead_lettered"' in by_title["Dead-lettered events"]["targets"][0]["expr"]
    assert "eduhub_consumer_lag" in by_title["Consumer lag"]["targets"][0]["expr"]
    assert "eduhub_outbox_pending" in by_title["Outbox pending"]["targets"][0]["expr"]

    # Sector health: shares of the assessed only, per commune tables, the campaign shown.
    shares = by_title["Nutrition status shares (province)"]
    assert shares["fieldConfig"]["defaults"]["unit"] == "percentunit"
    assert shares["targets"][0]["expr"].count('status!~"flagged|unknown"') == 2
    for title, metric in [
        ("Non-swimmer share by commune", "eduhub_swimming_non_swimmer_share"),
        ("Nutrition status by commune", "eduhub_nutrition_learners"),
        ("Eye conditions by commune", "eduhub_eye_condition_learners"),
    ]:
        panel = by_title[title]
        assert panel["type"] == "table", title
        assert panel["targets"][0]["format"] == "table", title
        assert (
            metric in panel["targets"][0]["expr"] and 'commune!=""' in panel["targets"][0]["expr"]
        )
    eyes = by_title["Eye conditions by commune"]["targets"][0]["expr"]
    assert "/ ignoring (condition) group_left" in eyes and "eduhub_eye_examined_learners" in eyes
    campaign = by_title["Health gauges' campaign"]["targets"][0]
    assert "eduhub_health_gauge_campaign" in campaign["expr"]
    assert campaign["legendFormat"] == "{{source}}: {{campaign}}"
    lag = by_title["Analytics consumer lag by group"]["targets"][0]["expr"]
    assert 'service="analytics"' in lag and "by (group)" in lag


# --- Kubernetes ---------------------------------------------------------------------------


def _by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_k8s_documents_parse_and_are_namespaced(k8s_docs: list[dict[str, Any]]) -> None:
    kinds = sorted(doc["kind"] for doc in k8s_docs)
    assert kinds == sorted(
        ["Namespace", "ConfigMap", "HorizontalPodAutoscaler", "HorizontalPodAutoscaler"]
        + ["Deployment", "Service", "PodDisruptionBudget"] * len(SERVICES)
        + ["PersistentVolumeClaim"]  # the edXML file drop
    )
    for doc in k8s_docs:
        assert doc["apiVersion"] and doc["metadata"]["name"]
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "eduhub"
    # secrets are created outside the repository, never committed
    assert "Secret" not in kinds


def test_documents_get_their_signing_keys_and_file_drop(k8s_docs: list[dict[str, Any]]) -> None:
    deployment = _by_kind(k8s_docs, "Deployment")["documents"]["spec"]["template"]["spec"]
    (container,) = deployment["containers"]
    env = {item["name"]: item for item in container["env"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    for name in ("DOCUMENTS_SIGNER_P12", "DOCUMENTS_SEAL_P12", "DOCUMENTS_TRUST_ROOTS"):
        assert env[name]["value"].startswith(mounts["signing"] + "/")
    for name in ("DOCUMENTS_SIGNER_P12_PASSWORD", "DOCUMENTS_SEAL_P12_PASSWORD"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "eduhub-documents-signing"
    assert env["EDXML_DROP_DIR"]["value"] == mounts["edxml-drop"]
    volumes = {v["name"]: v for v in deployment["volumes"]}
    claim = volumes["edxml-drop"]["persistentVolumeClaim"]["claimName"]
    assert _by_kind(k8s_docs, "PersistentVolumeClaim")[claim]["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests
    assert kustomization["namespace"] == "eduhub"
    assert [image["name"] for image in kustomization["images"]] == ["eduhub"]


def test_k8s_configmap(k8s_docs: list[dict[str, Any]]) -> None:
    data = _by_kind(k8s_docs, "ConfigMap")["eduhub-config"]["data"]
    assert {"KAFKA_BOOTSTRAP_SERVERS", "EDUHUB_ENV", "JWT_ISSUER", "JWT_AUDIENCE"} <= set(data)
    assert data["EDUHUB_ENV"] == "production"
    assert data["JWT_AUDIENCE"] == "eduhub"
    assert data["HTTP_PORT"] == "8000"
    assert data["KAFKA_TOPIC_PARTITIONS"] == "3"
    assert data["KAFKA_REPLICATION_FACTOR"] == "3"
    assert not any(re.search("PASSWORD|SECRET|DATABASE_URL", key) for key in data)


@pytest.mark.parametrize("name", SERVICES)
def test_k8s_deployment(k8s_docs: list[dict[str, Any]], name: str) -> None:
    deployment = _by_kind(k8s_docs, "Deployment")[name]
    hpas = _by_kind(k8s_docs, "HorizontalPodAutoscaler")
    template = deployment["spec"]["template"]
    (container,) = template["spec"]["containers"]

    if name in hpas:
        # the autoscaler owns the replica count; a fixed one would fight it on every apply
        assert "replicas" not in deployment["spec"]
        assert hpas[name]["spec"]["minReplicas"] == 2
    else:
        assert deployment["spec"]["replicas"] == 2

    assert container["command"] == ["python", "-m", f"services.{name}"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    resources = container["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}

    assert container["envFrom"] == [{"configMapRef": {"name": "eduhub-config"}}]
    env = {item["name"]: item for item in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": f"eduhub-{name}-db",
        "key": "DATABASE_URL",
    }
    assert env["JWT_PUBLIC_KEY_FILE"]["value"] == "/etc/eduhub/jwt/jwt-public.pem"
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    assert mounts["jwt-public-key"]["mountPath"] == "/etc/eduhub/jwt"
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert volumes["jwt-public-key"]["secret"]["secretName"] == "eduhub-jwt-public-key"
    assert volumes["jwt-public-key"]["secret"]["items"] == [
        {"key": "jwt-public.pem", "path": "jwt-public.pem"}
    ]

    assert template["metadata"]["annotations"] == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8000",
        "prometheus.io/path": "/metrics",
    }
    assert template["spec"]["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    labels = template["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    service = _by_kind(k8s_docs, "Service")[name]
    assert service["spec"]["selector"] == selector
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    pdb = _by_kind(k8s_docs, "PodDisruptionBudget")[name]
    assert pdb["spec"]["selector"]["matchLabels"] == selector
    assert pdb["spec"]["minAvailable"] == 1


def test_k8s_autoscalers(k8s_docs: list[dict[str, Any]]) -> None:
    hpas = _by_kind(k8s_docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {"analytics", "records"}
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
    # 3 partitions per topic by default: more records consumers than that would idle
    assert hpas["records"]["spec"]["maxReplicas"] == 3
    assert hpas["analytics"]["spec"]["maxReplicas"] > 3


def test_readme_secret_template_has_only_placeholders(k8s_docs: list[dict[str, Any]]) -> None:
    readme = (DEPLOY / "README.md").read_text("utf-8")
    secrets = [
        doc
        for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
        for doc in yaml.safe_load_all(block)
        if doc and doc.get("kind") == "Secret"
    ]
    referenced = {
        ref["name"]
        for deployment in _by_kind(k8s_docs, "Deployment").values()
        for container in deployment["spec"]["template"]["spec"]["containers"]
        for ref in (
            item["valueFrom"]["secretKeyRef"] for item in container["env"] if "valueFrom" in item
        )
    } | {"eduhub-jwt-public-key"}
    assert {s["metadata"]["name"] for s in secrets} == referenced
    for secret in secrets:
        for value in secret["stringData"].values():
            assert re.search(r"<[A-Z0-9_ ]+>", value), f"{secret['metadata']['name']}: {value}"
    assert "Kafka and PostgreSQL are not in the manifests" in readme
    assert "Strimzi" in readme and "CloudNativePG" in readme
    assert "partitions ≥\nreplicas" in readme or "partitions ≥ replicas" in readme


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile() -> None:
    lines = [
        line.strip()
        for line in (ROOT / "Dockerfile").read_text("utf-8").replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    instructions = [line.split()[0] for line in lines]
    assert lines[instructions.index("FROM")] == "FROM python:3.11-slim"

    def position(fragment: str) -> int:
        return next(i for i, line in enumerate(lines) if fragment in line)

    lock = position("pip install --no-cache-dir -r requirements.lock")
    assert position("COPY requirements.lock") < lock < position("COPY shared/ shared/")
    assert position("COPY services/ services/") < position("pip install --no-cache-dir --no-deps .")
    assert position("COPY pyproject.toml README.md") < position("--no-deps .")
    user = lines[len(instructions) - 1 - instructions[::-1].index("USER")]
    assert user.split()[1].split(":")[0] not in {"root", "0"}
    assert position("USER") < len(lines) - 1
    healthcheck = lines[instructions.index("HEALTHCHECK")]
    assert "urllib.request" in healthcheck and "/healthz" in healthcheck
    assert lines[-1] == 'CMD ["python", "-m", "services.identity"]'
    assert not any(re.search(r"^(ENV|ARG)\b.*(PASSWORD|SECRET)", line) for line in lines)

    dockerignore = (ROOT / ".dockerignore").read_text("utf-8").splitlines()
    for needed in ("requirements.lock", "pyproject.toml", "README.md", "shared/", "services/"):
        assert f"!{needed}" in dockerignore


# --- secrets never have defaults ----------------------------------------------------------

SECRET_DEFAULT = re.compile(r"\$\{\s*(?P<var>\w*(?:PASSWORD|SECRET|TOKEN)\w*)\s*(?::(?!\?)|-|=|\+)")
LITERAL_SECRET_VALUE = re.compile(
    r"^\s*-?\s*(?P<key>\w*(?:PASSWORD|SECRET)\w*)\s*[:=]\s*(?P<value>(?!\$\{)\S.*)$",
    flags=re.M,
)


def secret_defaults(text: str) -> list[str]:
    found = [m.group(0) for m in SECRET_DEFAULT.finditer(text)]
    found += [m.group(0).strip() for m in LITERAL_SECRET_VALUE.finditer(text)]
    return found


def test_secret_default_detector_catches_defaults() -> None:
    assert secret_defaults("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}")
    assert secret_defaults("url: postgresql://u:${POSTGRES_PASSWORD-changeme}@db/x")
    assert secret_defaults("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:postgres}")
    assert secret_defaults("      POSTGRES_PASSWORD: hunter2")
    assert secret_defaults("  - GF_SECURITY_ADMIN_PASSWORD=admin")
    assert not secret_defaults("POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}")
    assert not secret_defaults("url: postgresql://u:${POSTGRES_PASSWORD:?x}@db/x")


def _deploy_text_files() -> list[Path]:
    files = [ROOT / "Dockerfile", ROOT / ".dockerignore", ROOT / "docker-compose.yml"]
    for path in sorted(DEPLOY.rglob("*")):
        if ".cache" in path.parts or not path.is_file():
            continue
        if path.suffix in {".yml", ".yaml", ".json", ".sql", ".sh", ".md", ".env", ".conf"}:
            files.append(path)
    return files


def test_no_file_gives_a_password_a_default() -> None:
    files = _deploy_text_files()
    assert ROOT / "docker-compose.yml" in files
    assert DEPLOY / "k8s/identity.yaml" in files
    offenders = {
        str(path.relative_to(ROOT)): hits
        for path in files
        if (hits := secret_defaults(path.read_text("utf-8")))
    }
    assert offenders == {}
    # the brief's literal rule: every `${POSTGRES_PASSWORD:` is followed by `?` (required);
    # once for the postgres container and once in each service's DATABASE_URL
    compose_text = (ROOT / "docker-compose.yml").read_text("utf-8")
    assert re.findall(r"\$\{POSTGRES_PASSWORD:(.)", compose_text) == ["?"] * 5
