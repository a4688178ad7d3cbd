#!/usr/bin/env bash
# Validates the deployment files offline (no cluster, no Docker engine); `make lint` runs it.
#
#   bash deploy/validate.sh
#
# 1. kustomize build deploy/k8s (kubectl's built-in kustomize, else a `kustomize` binary): what
#    `kubectl apply -k deploy/k8s` would send.
# 2. The Strimzi CustomResourceDefinitions, generated once from Strimzi's API classes on Maven
#    Central (io.strimzi:api, by io.strimzi:crd-generator, as Strimzi's own build makes them) into
#    the cache, for each Strimzi version in STRIMZI_VERSIONS.
# 3. deploy/k8s/validate.py: every rendered resource against its schema (Kubernetes schemas bundled
#    by the PyPI package kubernetes-validate, the Strimzi CRD schemas), strict about unknown
#    fields; then names, references between the resources, Etalase's topics, ports, environment
#    and health endpoints; and the Compose file's health checks and dependencies.
# 4. deploy/compose.yaml against the Compose specification's JSON Schema (the copy check-jsonschema
#    ships as vendor.compose-spec).
# Exits non-zero when any step finds a problem; every step runs, so one run shows them all.
#
# Environment:
#   ETALASE_CACHE        cache of the generated CRDs and their Maven repository (~/.cache/etalase)
#   MAVEN_ARGS           extra arguments for mvn (e.g. -s settings.xml for a mirror)
#   K8S_VERSIONS         Kubernetes versions to validate against (default: "1.30 1.37")
#   STRIMZI_VERSIONS     Strimzi API versions whose CRDs to validate against (default: "0.45.0 0.51.0")
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1

# The oldest Kubernetes minor these manifests aim at, and the newest kubernetes-validate knows.
K8S_VERSIONS="${K8S_VERSIONS:-1.30 1.37}"
# kafka.strimzi.io/v1beta2 is served up to Strimzi 0.51 (the API classes of 1.2.0 define only v1).
# 0.45 is the last release that also runs ZooKeeper clusters: the annotations in kafka.yaml matter
# there.
STRIMZI_VERSIONS="${STRIMZI_VERSIONS:-0.45.0 0.51.0}"
# The generator: the newest io.strimzi:crd-generator on Maven Central that runs on Java 17 (1.x
# needs Java 21). For 0.51's API classes it writes the same openAPIV3Schema as 1.x's generator,
# less the CEL rules (x-kubernetes-validations), which a JSON Schema validator could not apply.
STRIMZI_CRD_GENERATOR_VERSION=0.45.0
KUBERNETES_VALIDATE="kubernetes-validate==1.37.0" # used only while it is not in the dev group
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1
CACHE_ROOT="${ETALASE_CACHE:-$HOME/.cache/etalase}"
M2_REPO="$CACHE_ROOT/m2"
UV="${UV:-$(command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv")}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
FAILED=()

say() { printf 'validate: %s\n' "$*"; }
fail() {
    printf 'validate: FAILED: %s\n' "$*" >&2
    FAILED+=("$1")
}

# ------------------------------------------------------------------------------------ 1. render
render() {
    if command -v kubectl >/dev/null && kubectl kustomize deploy/k8s >"$WORK/rendered.yaml" 2>"$WORK/kustomize.err"; then
        say "kustomize build deploy/k8s: ok ($(kubectl version --client 2>/dev/null | grep -i kustomize | tr -d '\n'))"
    elif command -v kustomize >/dev/null && kustomize build deploy/k8s >"$WORK/rendered.yaml" 2>"$WORK/kustomize.err"; then
        say "kustomize build deploy/k8s: ok (kustomize $(kustomize version 2>/dev/null))"
    elif command -v kubectl >/dev/null || command -v kustomize >/dev/null; then
        cat "$WORK/kustomize.err" >&2
        fail "kustomize build deploy/k8s"
        return 1
    else
        # Neither is installed: validate the files the kustomization lists, as they are.
        say "kustomize build: SKIPPED (neither kubectl nor kustomize is installed); validating the listed files unrendered"
        run_python - "$WORK/rendered.yaml" <<'PY' || { fail "reading deploy/k8s"; return 1; }
import sys
from pathlib import Path

import yaml

root = Path("deploy/k8s")
kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
docs = []
for name in kustomization["resources"]:
    for doc in yaml.safe_load_all((root / name).read_text()):
        if doc is not None:
            if doc.get("kind") != "Namespace":
                doc["metadata"].setdefault("namespace", kustomization.get("namespace"))
            docs.append(doc)
Path(sys.argv[1]).write_text(yaml.safe_dump_all(docs))
PY
    fi
}

# ------------------------------------------------------------------------------- 2. Strimzi CRDs
strimzi_crds() {
    # Prints the directory holding the CRDs of Strimzi $1, generating them when missing.
    local version="$1"
    local dir="$CACHE_ROOT/strimzi-crds/$version"
    local marker="$dir/.complete" spec="api:$version crd-generator:$STRIMZI_CRD_GENERATOR_VERSION"
    if [[ "$(cat "$marker" 2>/dev/null)" == "$spec" ]]; then
        echo "$dir"
        return 0
    fi
    command -v mvn >/dev/null || { echo "mvn not found (apt-get install maven)" >&2; return 1; }
    command -v java >/dev/null || { echo "java not found (apt-get install openjdk-17-jdk-headless)" >&2; return 1; }
    mkdir -p "$dir"
    rm -rf "$dir"/*.yaml "$dir/tmp"
    mkdir -p "$dir/tmp"
    cat >"$dir/tmp/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by deploy/validate.sh: the classpath that generates Strimzi's CRDs. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.etalase</groupId>
  <artifactId>strimzi-crds</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.strimzi</groupId>
      <artifactId>api</artifactId>
      <version>$version</version>
    </dependency>
    <dependency>
      <groupId>io.strimzi</groupId>
      <artifactId>crd-generator</artifactId>
      <version>$STRIMZI_CRD_GENERATOR_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    # shellcheck disable=SC2086  # MAVEN_ARGS is a list of words
    if ! mvn -B -q -Dstyle.color=never ${MAVEN_ARGS:-} -f "$dir/tmp/pom.xml" \
        -Dmaven.repo.local="$M2_REPO" "$DEPENDENCY_PLUGIN:build-classpath" \
        -Dmdep.outputFile="$dir/tmp/classpath" >"$dir/tmp/fetch.log" 2>&1; then
        tail -n 20 "$dir/tmp/fetch.log" >&2
        echo "fetching io.strimzi:api:$version failed (is Maven Central reachable?)" >&2
        return 1
    fi
    # Class names as in Strimzi's api/pom.xml; v1beta2 is the version the manifests use.
    if ! java -cp "$(cat "$dir/tmp/classpath")" io.strimzi.crdgenerator.CrdGenerator \
        --crd-api-version v1 --api-versions v1beta2 --storage-version v1beta2 --yaml \
        "io.strimzi.api.kafka.model.kafka.Kafka=$dir/kafka.yaml" \
        "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$dir/kafkanodepool.yaml" \
        "io.strimzi.api.kafka.model.topic.KafkaTopic=$dir/kafkatopic.yaml" \
        >"$dir/tmp/generate.log" 2>&1; then
        grep -v '^SLF4J' "$dir/tmp/generate.log" | tail -n 20 >&2
        echo "generating the CRDs of Strimzi $version failed" >&2
        return 1
    fi
    rm -rf "$dir/tmp"
    echo "$spec" >"$marker" # written last: an interrupted run generates again
    echo "$dir"
}

# ---------------------------------------------------------------------------------- 3. python
PYTHON_WITH=()
run_python() {
    "$UV" run --frozen --quiet "${PYTHON_WITH[@]}" python "$@"
}
choose_python() {
    if ! "$UV" run --frozen --quiet python -c 'import kubernetes_validate' 2>/dev/null; then
        say "kubernetes-validate is not in the dev group yet: using uv run --with $KUBERNETES_VALIDATE"
        PYTHON_WITH=(--with "$KUBERNETES_VALIDATE")
    fi
}

# ------------------------------------------------------------------------------------------ run
choose_python
if render; then
    crd_args=()
    for version in $STRIMZI_VERSIONS; do
        if dir="$(strimzi_crds "$version")"; then
            crd_args+=(--crds "$dir")
        else
            fail "Strimzi $version CRDs"
        fi
    done
    k8s_args=()
    for version in $K8S_VERSIONS; do k8s_args+=(--kubernetes-version "$version"); done
    if run_python deploy/k8s/validate.py --rendered "$WORK/rendered.yaml" --sources deploy/k8s \
        "${crd_args[@]}" "${k8s_args[@]}" --compose deploy/compose.yaml \
        --init-sql deploy/postgres-init.sql; then
        :
    else
        fail "deploy/k8s/validate.py"
    fi
fi

if "$UV" run --frozen --quiet check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml >"$WORK/compose.out" 2>&1; then
    say "deploy/compose.yaml against the compose-spec schema: $(tail -n 1 "$WORK/compose.out")"
else
    cat "$WORK/compose.out" >&2
    fail "deploy/compose.yaml against the compose-spec schema"
fi

if ((${#FAILED[@]})); then
    say "${#FAILED[@]} step(s) failed: ${FAILED[*]}"
    exit 1
fi
say "all deployment files valid"
