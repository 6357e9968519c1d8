// Package deploy holds what runs the connector outside a Go toolchain: the
// container image (Dockerfile), a compose project of the whole system
// (compose.yaml, nats.conf, prometheus.yml, .env.example), Kubernetes
// manifests (kubernetes/, Kustomize), the Grafana dashboard (grafana/) and
// the Prometheus alert rules (prometheus/alerts.yml).
//
// It has no Go code of its own. Its tests check those files against the
// code: the static binary runs as it does in the image, every variable the
// files set is one the connector knows, every metric the dashboard and the
// alerts ask for is one the connector registers, and replicas sharing one
// NATS server journal a webhook once. docs/operations.md explains how to run
// it all.
package deploy
