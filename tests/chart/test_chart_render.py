"""The rendered chart: Kubernetes schemas, wiring between objects, security, probes, hooks, optional CRDs."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from wanotify.common.config import ENV_VARS

from .conftest import (
    CHART,
    COMPONENTS,
    EVERYTHING,
    QUEUE_URL,
    RELEASE,
    Doc,
    Rendered,
    Renderer,
    load_values_file,
)

CRD_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}
POD_KINDS = {"Deployment", "Job", "Pod"}
KUBE_VERSION = "1.31"
# Set for the cluster but read by libraries, not by wanotify.common.config: the OTel SDK and boto3.
LIBRARY_ENV = {"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
# Read by the Meta sandbox (dev stack only) from its own settings module.
SANDBOX_ENV = {"SANDBOX_WEBHOOK_URL"}
KNOWN_ENV = {v.name for v in ENV_VARS} | LIBRARY_ENV | SANDBOX_ENV


def name(component: str) -> str:
    return f"{RELEASE}-{component}"


def pod_spec(doc: Doc) -> dict[str, Any]:
    if doc.kind == "Pod":
        return dict(doc.obj["spec"])
    return dict(doc.obj["spec"]["template"]["spec"])


def pod_labels(doc: Doc) -> dict[str, str]:
    if doc.kind == "Pod":
        return doc.labels
    return dict(doc.obj["spec"]["template"]["metadata"]["labels"])


def workloads(rendered: Rendered) -> list[Doc]:
    return [d for d in rendered.docs if d.kind in POD_KINDS]


def our_image(rendered: Rendered, container: dict[str, Any]) -> bool:
    return str(container["image"]).startswith(
        rendered.values.get("image", {}).get("repository", "ghcr.io/wa-notify/")
    )


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def hook_events(doc: Doc) -> set[str]:
    return set(filter(None, doc.annotations.get("helm.sh/hook", "").split(",")))


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# ---------------------------------------------------------------------------------------------- lint, schemas


@pytest.mark.parametrize("values_file", [None, "values-dev.yaml", "values-prod.yaml", "everything"])
def test_helm_lint_strict_has_no_errors(values_file: str | None) -> None:
    if values_file is None:
        values = None
    elif values_file == "everything":
        values = EVERYTHING
    else:
        values = load_values_file(values_file)
    result = helm.lint(CHART, values, strict=True, namespace="wa-notify")
    assert result["errors"] == [], result
    assert result["total_charts_linted"] == 1


def test_core_objects_pass_the_kubernetes_schema(rendered: Rendered) -> None:
    assert rendered.docs, "nothing rendered"
    for doc in rendered.docs:
        if doc.kind in CRD_KINDS:
            with pytest.raises(kubernetes_validate.SchemaNotFoundError):
                kubernetes_validate.validate(doc.obj, KUBE_VERSION, strict=True)
            continue
        try:
            kubernetes_validate.validate(doc.obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{doc.template}: {doc.kind}/{doc.name}: {exc}")


def test_no_unexpected_kinds(everything: Rendered) -> None:
    kinds = {d.kind for d in everything.docs}
    assert kinds == {
        "ConfigMap",
        "Secret",
        "ServiceAccount",
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "Job",
        "Pod",
        "Ingress",
        *CRD_KINDS,
    }


def test_names_are_unique_per_kind(rendered: Rendered) -> None:
    seen = [(d.kind, d.name) for d in rendered.docs]
    assert len(seen) == len(set(seen))


def test_notes_render_and_say_how_to_reach_the_api(default: Rendered, prod: Rendered) -> None:
    assert "port-forward svc/wa-notify-api 8080:80" in default.notes
    assert "WARNING" in default.notes  # default values have no database URL
    assert "https://notify.example.com/v1" in prod.notes
    assert "WARNING" not in prod.notes  # existing Secret


# ------------------------------------------------------------------------------------------ selectors, labels


def test_four_deployments_one_per_component(rendered: Rendered) -> None:
    for component in COMPONENTS:
        deployment = rendered.get("Deployment", name(component))
        container = pod_spec(deployment)["containers"][0]
        assert container["args"] == [component]
        assert deployment.labels["app.kubernetes.io/component"] == component


def test_selectors_match_pod_labels_and_are_immutable(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        selector = deployment.obj["spec"]["selector"]["matchLabels"]
        assert matches(selector, pod_labels(deployment)), deployment.name
        assert "app.kubernetes.io/version" not in selector
        assert "helm.sh/chart" not in selector
        others = [d for d in rendered.of_kind("Deployment") if d is not deployment]
        assert not any(matches(selector, pod_labels(o)) for o in others), f"{deployment.name} selects others"


def test_services_select_exactly_one_deployment(rendered: Rendered) -> None:
    deployments = rendered.of_kind("Deployment")
    for service in rendered.of_kind("Service"):
        selector = service.obj["spec"]["selector"]
        targets = [d for d in deployments if matches(selector, pod_labels(d))]
        assert len(targets) == 1, service.name
        container_ports = {p["name"] for p in pod_spec(targets[0])["containers"][0]["ports"]}
        for port in service.obj["spec"]["ports"]:
            assert port["targetPort"] in container_ports, service.name


def test_every_component_has_a_scrapable_service(rendered: Rendered) -> None:
    expected = {
        "api": name("api"),
        "receiver": name("receiver"),
        "worker": name("worker-metrics"),
        "scheduler": name("scheduler-metrics"),
    }
    for component, service_name in expected.items():
        service = rendered.get("Service", service_name)
        assert service.labels["app.kubernetes.io/component"] == component
        assert [p["name"] for p in service.obj["spec"]["ports"]] == ["http"]
    api_port = rendered.get("Service", name("api")).obj["spec"]["ports"][0]
    assert api_port["port"] == rendered.values.get("api", {}).get("service", {}).get("port", 80)


def test_pdbs_hpas_and_network_policies_select_their_component(rendered: Rendered) -> None:
    deployments = rendered.of_kind("Deployment")
    for pdb in rendered.of_kind("PodDisruptionBudget"):
        selector = pdb.obj["spec"]["selector"]["matchLabels"]
        assert [d.name for d in deployments if matches(selector, pod_labels(d))] == [pdb.name]
    for policy in rendered.of_kind("NetworkPolicy"):
        selector = policy.obj["spec"]["podSelector"]["matchLabels"]
        assert [d.name for d in deployments if matches(selector, pod_labels(d))] == [policy.name]
    for hpa in rendered.of_kind("HorizontalPodAutoscaler"):
        target = hpa.obj["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        assert rendered.has("Deployment", target["name"])


def test_pdbs_allow_one_unavailable_pod(default: Rendered) -> None:
    pdbs = {d.name: d.obj["spec"] for d in default.of_kind("PodDisruptionBudget")}
    assert set(pdbs) == {name("api"), name("receiver"), name("worker")}
    for spec in pdbs.values():
        assert spec["maxUnavailable"] == 1
        assert "minAvailable" not in spec


# ---------------------------------------------------------------------------------------- security, probes


def test_every_container_runs_restricted(rendered: Rendered) -> None:
    for doc in workloads(rendered):
        spec = pod_spec(doc)
        pod_ctx = spec.get("securityContext", {})
        assert pod_ctx.get("runAsNonRoot") is True, doc.name
        assert pod_ctx.get("seccompProfile", {}).get("type") == "RuntimeDefault", doc.name
        for container in spec["containers"] + spec.get("initContainers", []):
            ctx = container.get("securityContext", {})
            where = f"{doc.kind}/{doc.name}/{container['name']}"
            assert ctx.get("allowPrivilegeEscalation") is False, where
            assert ctx.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not ctx.get("capabilities", {}).get("add"), where
            assert ctx.get("readOnlyRootFilesystem") is True, where
            assert ctx.get("privileged") in (None, False), where
            assert ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, where
            assert "/tmp" in {m["mountPath"] for m in container.get("volumeMounts", [])}, where


def test_our_pods_run_as_uid_10001(rendered: Rendered) -> None:
    for doc in workloads(rendered):
        spec = pod_spec(doc)
        if not all(our_image(rendered, c) for c in spec["containers"]):
            continue  # the dev stack's PostgreSQL / Redis / moto images have their own users
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["securityContext"]["runAsGroup"] == 10001
        tmp = next(v for v in spec["volumes"] if v["name"] == "tmp")
        assert "emptyDir" in tmp


def test_only_the_scheduler_mounts_a_service_account_token(rendered: Rendered) -> None:
    for doc in workloads(rendered):
        expected = doc.name == name("scheduler")
        assert pod_spec(doc).get("automountServiceAccountToken") is expected, doc.name
    for account in rendered.of_kind("ServiceAccount"):
        assert account.obj.get("automountServiceAccountToken") is False


def test_probes_liveness_livez_readiness_health(rendered: Rendered) -> None:
    for component in COMPONENTS:
        container = pod_spec(rendered.get("Deployment", name(component)))["containers"][0]
        assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["startupProbe"]["httpGet"]["path"] == "/livez"
        assert [p["name"] for p in container["ports"]] == ["http"]


def test_container_ports_match_the_port_settings(default: Rendered) -> None:
    config = default.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    expected = {"api": 8080, "receiver": 8081, "worker": 9101, "scheduler": 9102}
    for component, port in expected.items():
        container = pod_spec(default.get("Deployment", name(component)))["containers"][0]
        assert container["ports"][0]["containerPort"] == port
        assert config[f"{component.upper()}_PORT"] == str(port)
        assert config[f"{component.upper()}_HOST"] == "0.0.0.0"


def test_resources_request_cpu(rendered: Rendered) -> None:
    for component in COMPONENTS:
        container = pod_spec(rendered.get("Deployment", name(component)))["containers"][0]
        assert container["resources"]["requests"]["cpu"], component


# --------------------------------------------------------------------------------------------- configuration


def test_environment_names_are_ones_the_services_read(rendered: Rendered) -> None:
    config = rendered.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert set(config) <= KNOWN_ENV, set(config) - KNOWN_ENV
    for secret in rendered.of_kind("Secret"):
        assert set(secret.obj["data"]) <= KNOWN_ENV, secret.name
    for doc in workloads(rendered):
        for container in pod_spec(doc)["containers"]:
            if not our_image(rendered, container) or container.get("command"):
                continue  # third-party dev images and inline scripts
            names = set(env_of(container)) - {"POD_NAME", "POD_NAMESPACE"}
            extra = {e["name"] for e in rendered.values.get("extraEnv", [])}
            assert names - extra <= KNOWN_ENV, (doc.name, names - KNOWN_ENV)


def test_cluster_settings(dev: Rendered) -> None:
    config = dev.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert config["QUEUE_BACKEND"] == "sqs"
    assert config["SQS_QUEUE_URL"] == "http://wa-notify-moto:5000/123456789012/wa-notify-send"
    assert config["SQS_ENDPOINT_URL"] == "http://wa-notify-moto:5000"
    assert config["META_GRAPH_BASE_URL"] == "http://wa-notify-sandbox:8090"
    assert all(isinstance(v, str) for v in config.values())
    secret = dev.get("Secret", RELEASE).obj["data"]
    assert {"DATABASE_URL", "REDIS_URL", "META_APP_SECRET", "META_VERIFY_TOKEN", "WA_ENCRYPTION_KEY"} <= set(
        secret
    )
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(secret)
    for component in COMPONENTS:
        container = pod_spec(dev.get("Deployment", name(component)))["containers"][0]
        refs = container["envFrom"]
        assert {"configMapRef": {"name": f"{RELEASE}-config"}} in refs
        assert {"secretRef": {"name": RELEASE}} in refs
        env = env_of(container)
        assert env["OTEL_SERVICE_NAME"] == f"wa-notify-{component}"


def test_default_secret_has_no_aws_keys(default: Rendered) -> None:
    secret = default.get("Secret", RELEASE).obj["data"]
    assert "AWS_ACCESS_KEY_ID" not in secret


def test_large_integers_render_as_plain_integers(render: Renderer) -> None:
    rendered = render({"api": {"maxBodyBytes": 10485760}, "database": {"poolSize": 25}})
    config = rendered.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    assert config["API_MAX_BODY_BYTES"] == "10485760"
    assert config["DATABASE_POOL_SIZE"] == "25"


def test_scheduler_leader_election_env_and_rbac(rendered: Rendered) -> None:
    deployment = rendered.get("Deployment", name("scheduler"))
    env = env_of(pod_spec(deployment)["containers"][0])
    assert env["LEADER_ELECTION"] == "true"
    assert env["LEADER_LEASE_NAME"] == "wa-notify-scheduler"
    assert env["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert env["POD_NAMESPACE"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}

    role = rendered.get("Role", name("scheduler-leases"))
    verbs: set[str] = set()
    for rule in role.obj["rules"]:
        assert rule["apiGroups"] == ["coordination.k8s.io"]
        assert rule["resources"] == ["leases"]
        assert rule.get("resourceNames", ["wa-notify-scheduler"]) == ["wa-notify-scheduler"]
        verbs |= set(rule["verbs"])
    assert verbs == {"get", "create", "update"}

    binding = rendered.get("RoleBinding", name("scheduler-leases"))
    assert binding.obj["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role.name,
    }
    service_account = pod_spec(deployment)["serviceAccountName"]
    assert binding.obj["subjects"] == [
        {"kind": "ServiceAccount", "name": service_account, "namespace": "wa-notify"}
    ]
    assert rendered.has("ServiceAccount", service_account)


def test_leader_election_off_removes_rbac_and_token(render: Renderer) -> None:
    rendered = render({"scheduler": {"leaderElection": {"enabled": False}}})
    assert not rendered.of_kind("Role")
    assert not rendered.of_kind("RoleBinding")
    spec = pod_spec(rendered.get("Deployment", name("scheduler")))
    assert spec["automountServiceAccountToken"] is False
    assert env_of(spec["containers"][0])["LEADER_ELECTION"] == "false"


def test_one_image_for_every_component(render: Renderer) -> None:
    tag = "3f2a9c1@sha256:" + "a" * 64
    rendered = render({"image": {"repository": "registry.local/wa-notify", "tag": tag}})
    images = {c["image"] for d in workloads(rendered) for c in pod_spec(d)["containers"]}
    assert images == {f"registry.local/wa-notify:{tag}"}
    default_image = pod_spec(render().get("Deployment", name("api")))["containers"][0]["image"]
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    assert default_image == f"ghcr.io/wa-notify/wa-notify:{app_version}"


def test_existing_secret_replaces_the_chart_secret(render: Renderer) -> None:
    rendered = render(
        {
            "secrets": {"existingSecret": "my-secrets"},
            "keda": {"enabled": True, "auth": {"type": "secret"}},
            "sqs": {"queueUrl": QUEUE_URL},
        }
    )
    assert not rendered.of_kind("Secret")
    for doc in workloads(rendered):
        for container in pod_spec(doc)["containers"]:
            for ref in container.get("envFrom", []):
                if "secretRef" in ref:
                    assert ref["secretRef"]["name"] == "my-secrets", doc.name
    auth = rendered.get("TriggerAuthentication", name("worker-sqs"))
    assert {ref["name"] for ref in auth.obj["spec"]["secretTargetRef"]} == {"my-secrets"}
    for component in COMPONENTS:
        annotations = rendered.get("Deployment", name(component)).obj["spec"]["template"]["metadata"][
            "annotations"
        ]
        assert "checksum/secret" not in annotations
        assert "checksum/config" in annotations


def test_config_change_rolls_the_pods(render: Renderer) -> None:
    def checksum(rendered: Rendered) -> str:
        meta = rendered.get("Deployment", name("api")).obj["spec"]["template"]["metadata"]
        return str(meta["annotations"]["checksum/config"])

    assert checksum(render({"logLevel": "DEBUG"})) != checksum(render({"logLevel": "INFO"}))


# --------------------------------------------------------------------------------------------- migrate hook


def test_migrate_job_is_a_pre_install_pre_upgrade_hook(default: Rendered) -> None:
    job = default.get("Job", name("migrate"))
    assert hook_events(job) == {"pre-install", "pre-upgrade"}
    assert job.annotations["helm.sh/hook-weight"] == "0"
    assert set(job.annotations["helm.sh/hook-delete-policy"].split(",")) == {
        "before-hook-creation",
        "hook-succeeded",
    }
    spec = pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["args"] == ["migrate"]
    assert "serviceAccountName" not in spec  # the release's ServiceAccounts do not exist yet
    assert job.obj["spec"]["backoffLimit"] <= 5


def test_hook_jobs_read_only_hooks_created_before_them_or_external_objects(rendered: Rendered) -> None:
    """Pitfall: a pre-install hook runs before the release's normal objects exist."""
    for job in rendered.of_kind("Job"):
        events = hook_events(job)
        assert events, f"{job.name} is not a hook"
        weight = int(job.annotations.get("helm.sh/hook-weight", "0"))
        for container in pod_spec(job)["containers"]:
            for ref in container.get("envFrom", []):
                kind, target = (
                    ("ConfigMap", ref["configMapRef"])
                    if "configMapRef" in ref
                    else ("Secret", ref["secretRef"])
                )
                if not rendered.has(kind, target["name"]):
                    continue  # external (secrets.existingSecret)
                source = rendered.get(kind, target["name"])
                if events & {"pre-install", "pre-upgrade"}:
                    assert hook_events(source) >= events, f"{job.name} reads {kind}/{source.name}"
                    assert int(source.annotations["helm.sh/hook-weight"]) < weight
                elif hook_events(source):
                    assert int(source.annotations["helm.sh/hook-weight"]) < weight


def test_migrate_hook_copies_match_the_release_config(default: Rendered) -> None:
    assert (
        default.get("ConfigMap", name("migrate")).obj["data"]
        == default.get("ConfigMap", f"{RELEASE}-config").obj["data"]
    )
    assert default.get("Secret", name("migrate")).obj["data"] == default.get("Secret", RELEASE).obj["data"]


def test_dev_migrates_after_install_and_before_upgrades(dev: Rendered) -> None:
    assert hook_events(dev.get("Job", name("migrate"))) == {"post-install", "pre-upgrade"}
    init = dev.get("Job", name("dev-init"))
    assert hook_events(init) == {"post-install", "post-upgrade"}


def test_migrate_can_be_disabled(render: Renderer) -> None:
    rendered = render({"migrate": {"enabled": False}})
    assert not rendered.of_kind("Job")
    assert not rendered.has("ConfigMap", name("migrate"))


# ---------------------------------------------------------------------------------------------- autoscaling


def test_hpa_on_cpu_for_api_and_receiver_only(default: Rendered) -> None:
    hpas = {d.name: d.obj["spec"] for d in default.of_kind("HorizontalPodAutoscaler")}
    assert set(hpas) == {name("api"), name("receiver")}
    for spec in hpas.values():
        assert spec["metrics"][0]["resource"]["name"] == "cpu"
        assert spec["minReplicas"] <= spec["maxReplicas"]
    for component in ("api", "receiver"):
        assert "replicas" not in default.get("Deployment", name(component)).obj["spec"]
    assert default.get("Deployment", name("worker")).obj["spec"]["replicas"] == 2


def test_keda_scaled_object_targets_the_worker(everything: Rendered) -> None:
    scaled = everything.get("ScaledObject", name("worker"))
    assert scaled.obj["apiVersion"] == "keda.sh/v1alpha1"
    target = scaled.obj["spec"]["scaleTargetRef"]
    assert target["name"] == name("worker")
    assert target.get("kind", "Deployment") == "Deployment"
    assert everything.has("Deployment", target["name"])
    assert "replicas" not in everything.get("Deployment", name("worker")).obj["spec"]
    hpa_targets = {
        d.obj["spec"]["scaleTargetRef"]["name"] for d in everything.of_kind("HorizontalPodAutoscaler")
    }
    assert name("worker") not in hpa_targets  # KEDA owns the worker's HPA
    spec = scaled.obj["spec"]
    assert spec["minReplicaCount"] <= spec["maxReplicaCount"]

    (trigger,) = spec["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    metadata = trigger["metadata"]
    assert all(isinstance(v, str) for v in metadata.values()), metadata
    assert metadata["queueURL"] == QUEUE_URL
    assert metadata["awsRegion"] == "eu-west-1"
    assert metadata["awsEndpoint"] == "http://moto.dev.svc:5000"
    assert int(metadata["queueLength"]) > 0
    assert metadata["scaleOnInFlight"] in ("true", "false")
    auth = everything.get("TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert auth.obj["spec"]["podIdentity"] == {"provider": "aws", "identityOwner": "workload"}


def test_keda_scales_on_the_webhook_backlog_when_prometheus_is_given(render: Renderer) -> None:
    rendered = render(
        {
            "keda": {"enabled": True},
            "sqs": {"queueUrl": QUEUE_URL},
            "worker": {"autoscaling": {"webhookBacklog": {"prometheusAddress": "http://prometheus:9090"}}},
        }
    )
    triggers = rendered.get("ScaledObject", name("worker")).obj["spec"]["triggers"]
    backlog = next(t for t in triggers if t["type"] == "prometheus")
    assert backlog["metadata"]["serverAddress"] == "http://prometheus:9090"
    assert "wanotify_webhook_backlog" in backlog["metadata"]["query"]
    assert all(isinstance(v, str) for v in backlog["metadata"].values())
    assert int(backlog["metadata"]["threshold"]) == 200
    assert {t["type"] for t in triggers} == {"aws-sqs-queue", "prometheus"}


def test_keda_raw_text_quotes_every_metadata_value(everything: Rendered) -> None:
    text = next(v for k, v in everything.files.items() if k.endswith("keda.yaml"))
    block = text.split("metadata:\n")[-1]
    for line in block.strip().splitlines():
        _, _, value = line.strip().partition(": ")
        assert value.startswith('"'), line
        assert value.endswith('"'), line


def test_keda_without_endpoint_and_with_role(prod: Rendered, render: Renderer) -> None:
    metadata = prod.get("ScaledObject", name("worker")).obj["spec"]["triggers"][0]["metadata"]
    assert "awsEndpoint" not in metadata
    rendered = render(
        {
            "keda": {"enabled": True, "auth": {"podIdentity": {"roleArn": "arn:aws:iam::1:role/keda"}}},
            "sqs": {"queueUrl": QUEUE_URL},
        }
    )
    identity = rendered.get("TriggerAuthentication", name("worker-sqs")).obj["spec"]["podIdentity"]
    assert identity == {"provider": "aws", "roleArn": "arn:aws:iam::1:role/keda"}


def test_keda_static_keys_come_from_the_release_secret(render: Renderer) -> None:
    rendered = render(
        {
            "keda": {"enabled": True, "auth": {"type": "secret"}},
            "sqs": {"queueUrl": QUEUE_URL, "accessKeyId": "testing", "secretAccessKey": "testing"},
        }
    )
    refs = rendered.get("TriggerAuthentication", name("worker-sqs")).obj["spec"]["secretTargetRef"]
    assert {r["parameter"] for r in refs} == {"awsAccessKeyID", "awsSecretAccessKey"}
    secret = rendered.get("Secret", RELEASE).obj["data"]
    for ref in refs:
        assert ref["name"] == RELEASE
        assert ref["key"] in secret


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"keda": {"enabled": True}, "queue": {"backend": "postgres"}, "sqs": {"queueUrl": QUEUE_URL}},
            "queue.backend=sqs",
        ),
        ({"keda": {"enabled": True}}, "sqs.queueUrl"),
        (
            {"keda": {"enabled": True, "auth": {"type": "secret"}}, "sqs": {"queueUrl": QUEUE_URL}},
            "accessKeyId",
        ),
    ],
)
def test_keda_misconfiguration_fails_the_render(
    render: Renderer, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmError, match=message):
        render(values)


# ---------------------------------------------------------------------------------------- network policies


def test_network_policies_allow_ingress_only_on_the_service_port(rendered: Rendered) -> None:
    policies = {d.name: d.obj["spec"] for d in rendered.of_kind("NetworkPolicy")}
    assert set(policies) == {name(c) for c in COMPONENTS}
    for component in COMPONENTS:
        spec = policies[name(component)]
        assert spec["policyTypes"] == ["Ingress"]
        port = pod_spec(rendered.get("Deployment", name(component)))["containers"][0]["ports"][0][
            "containerPort"
        ]
        for rule in spec["ingress"]:
            assert rule["ports"] == [{"port": port, "protocol": "TCP"}]


def test_network_policy_peers(everything: Rendered) -> None:
    api_rules = everything.get("NetworkPolicy", name("api")).obj["spec"]["ingress"]
    assert [r["from"] for r in api_rules] == [
        EVERYTHING["api"]["networkPolicy"]["from"],
        EVERYTHING["networkPolicy"]["metricsFrom"],
    ]
    worker_rules = everything.get("NetworkPolicy", name("worker")).obj["spec"]["ingress"]
    assert [r["from"] for r in worker_rules] == [EVERYTHING["networkPolicy"]["metricsFrom"]]
    receiver_rules = everything.get("NetworkPolicy", name("receiver")).obj["spec"]["ingress"]
    assert ["from" in r for r in receiver_rules] == [False]  # Meta calls from anywhere


def test_network_policies_can_be_disabled(render: Renderer) -> None:
    assert not render({"networkPolicy": {"enabled": False}}).of_kind("NetworkPolicy")


# ------------------------------------------------------------------------------------------ optional CRDs


def test_crd_objects_are_absent_by_default(default: Rendered, dev: Rendered) -> None:
    for rendered in (default, dev):
        assert not [d for d in rendered.docs if d.kind in CRD_KINDS]
        assert not rendered.has("ConfigMap", f"{RELEASE}-dashboards")


@pytest.mark.parametrize(
    ("flag", "kinds"),
    [
        ({"keda": {"enabled": False}}, {"ScaledObject", "TriggerAuthentication"}),
        ({"metrics": {"serviceMonitor": {"enabled": False}}}, {"ServiceMonitor"}),
        ({"metrics": {"prometheusRule": {"enabled": False}}}, {"PrometheusRule"}),
    ],
)
def test_each_flag_removes_its_crd_objects(render: Renderer, flag: dict[str, Any], kinds: set[str]) -> None:
    values = yaml.safe_load(yaml.safe_dump(EVERYTHING))
    for key, sub in flag.items():
        for subkey, setting in sub.items():
            if isinstance(setting, dict):
                values[key][subkey].update(setting)
            else:
                values[key][subkey] = setting
    rendered = render(values)
    present = {d.kind for d in rendered.docs}
    assert not kinds & present
    assert (CRD_KINDS - kinds) <= present


def test_dashboards_flag(render: Renderer, everything: Rendered) -> None:
    assert everything.has("ConfigMap", f"{RELEASE}-dashboards")
    values = yaml.safe_load(yaml.safe_dump(EVERYTHING))
    values["grafana"]["dashboards"]["enabled"] = False
    assert not render(values).has("ConfigMap", f"{RELEASE}-dashboards")


def test_service_monitor_selects_the_four_services_and_names_their_port(everything: Rendered) -> None:
    monitor = everything.get("ServiceMonitor", RELEASE)
    assert monitor.obj["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor.labels["release"] == "kube-prometheus-stack"
    selector = monitor.obj["spec"]["selector"]

    def selected(service: Doc) -> bool:
        if not matches(selector.get("matchLabels", {}), service.labels):
            return False
        for expression in selector.get("matchExpressions", []):
            value = service.labels.get(expression["key"])
            if expression["operator"] == "In" and value not in expression["values"]:
                return False
        return True

    services = [s for s in everything.of_kind("Service") if selected(s)]
    assert {s.labels["app.kubernetes.io/component"] for s in services} == set(COMPONENTS)
    assert len(services) == 4  # not the dev stack's PostgreSQL, Redis, moto, sandbox
    for endpoint in monitor.obj["spec"]["endpoints"]:
        assert endpoint["path"] == "/metrics"
        for service in services:
            assert endpoint["port"] in {p["name"] for p in service.obj["spec"]["ports"]}, service.name
        relabel = endpoint["relabelings"][0]
        assert relabel["targetLabel"] == "job"
        assert relabel["replacement"] == "wa-notify-$1"


def test_prometheus_rule_embeds_the_rules_file_unchanged(everything: Rendered) -> None:
    rule = everything.get("PrometheusRule", RELEASE)
    on_disk = yaml.safe_load((CHART / "rules" / "wanotify.rules.yml").read_text())
    assert rule.obj["spec"] == on_disk
    text = next(v for k, v in everything.files.items() if k.endswith("prometheusrule.yaml"))
    assert "{{ $labels.namespace }}" in text  # alert templates survive Helm


def test_dashboard_configmap_carries_every_dashboard(everything: Rendered) -> None:
    configmap = everything.get("ConfigMap", f"{RELEASE}-dashboards")
    assert configmap.labels["grafana_dashboard"] == "1"
    assert configmap.annotations["grafana_folder"] == "wa-notify"
    files = {p.name: p.read_text() for p in (CHART / "dashboards").glob("*.json")}
    assert files
    assert configmap.obj["data"] == files


# ----------------------------------------------------------------------------------------------- ingresses


def test_ingresses_route_to_the_http_port(everything: Rendered) -> None:
    for component in ("api", "receiver"):
        ingress = everything.get("Ingress", name(component))
        for rule in ingress.obj["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] == name(component)
                assert backend["port"] == {"name": "http"}
    receiver_paths = everything.get("Ingress", name("receiver")).obj["spec"]["rules"][0]["http"]["paths"]
    assert receiver_paths[0]["path"] == "/webhooks/whatsapp"


# ---------------------------------------------------------------------------------------------- dev stack


def test_dev_stack_serves_what_values_dev_points_at(dev: Rendered) -> None:
    services = {s.name: s.obj["spec"]["ports"][0]["port"] for s in dev.of_kind("Service")}
    assert services[name("postgres")] == 5432
    assert services[name("redis")] == 6379
    assert services[name("moto")] == 5000
    assert services[name("sandbox")] == 8090
    sandbox = pod_spec(dev.get("Deployment", name("sandbox")))["containers"][0]
    assert sandbox["args"] == ["sandbox"]
    assert env_of(sandbox)["SANDBOX_WEBHOOK_URL"] == "http://wa-notify-receiver:80/webhooks/whatsapp"
    assert not dev.of_kind("HorizontalPodAutoscaler")
    for component in COMPONENTS:
        assert dev.get("Deployment", name(component)).obj["spec"]["replicas"] == 1


def test_production_has_no_dev_stack(prod: Rendered, default: Rendered) -> None:
    for rendered in (prod, default):
        assert not rendered.has("Deployment", name("moto"))
        assert not rendered.has("Job", name("dev-init"))
