//go:build tools

// Package tools records the Kubernetes commands built by scripts/k8s/build-bins.sh
// so that `go mod tidy` keeps their dependencies in go.mod / go.sum.
// Build with: go build k8s.io/kubernetes/cmd/kube-apiserver (from this directory).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
