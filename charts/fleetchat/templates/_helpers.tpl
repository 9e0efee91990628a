{{/* Chart name, truncated to 63 characters. */}}
{{- define "fleetchat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; components append -operator, -controller, -gateway (so keep room: 40 characters). */}}
{{- define "fleetchat.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "fleetchat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object (pod templates add app.kubernetes.io/component, completing the selector labels). */}}
{{- define "fleetchat.labels" -}}
helm.sh/chart: {{ include "fleetchat.chart" . }}
app.kubernetes.io/name: {{ include "fleetchat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: fleetchat
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: include with (dict "ctx" . "component" "gateway"). */}}
{{- define "fleetchat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleetchat.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "fleetchat.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "fleetchat.controllerAddress" -}}
{{- printf "%s-controller.%s.svc:%v" (include "fleetchat.fullname" .) .Release.Namespace .Values.controller.service.port }}
{{- end }}

{{- define "fleetchat.operatorServiceAccount" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (printf "%s-operator" (include "fleetchat.fullname" .)) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Security context of every fleetchat container: non-root, read-only root filesystem, no capabilities. */}}
{{- define "fleetchat.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{- define "fleetchat.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The namespace the operator watches: operator.watchNamespace, else the release namespace; "" (all) only with
rbac.clusterWide and no watchNamespace. */}}
{{- define "fleetchat.watchNamespace" -}}
{{- if .Values.rbac.clusterWide }}
{{- .Values.operator.watchNamespace }}
{{- else }}
{{- default .Release.Namespace .Values.operator.watchNamespace }}
{{- end }}
{{- end }}

{{/* Namespaces where ModelWorkers' pods run and get the worker NetworkPolicy. */}}
{{- define "fleetchat.workerNamespaces" -}}
{{- $ns := include "fleetchat.watchNamespace" . }}
{{- $list := list (default .Release.Namespace $ns) }}
{{- range .Values.networkPolicy.workerNamespaces }}{{ $list = append $list . }}{{ end }}
{{- toJson ($list | uniq) }}
{{- end }}

{{/* The Secret holding a role's certificate (tls.crt, tls.key, ca.crt): include with (dict "ctx" . "role" "controller"). */}}
{{- define "fleetchat.tlsSecret" -}}
{{- printf "%s-%s-tls" (include "fleetchat.fullname" .ctx) .role }}
{{- end }}

{{- define "fleetchat.caSecret" -}}
{{- default (printf "%s-ca" (include "fleetchat.fullname" .)) .Values.tls.caSecret }}
{{- end }}

{{- define "fleetchat.tokenSecret" -}}
{{- default (printf "%s-cluster-token" (include "fleetchat.fullname" .)) .Values.clusterToken.existingSecret }}
{{- end }}

{{/* The operator issues certificates itself (TLS without cert-manager). */}}
{{- define "fleetchat.operatorIssues" -}}
{{- if and .Values.tls.enabled (not .Values.tls.certManager.enabled) }}true{{ end }}
{{- end }}

{{/* The issuer of cert-manager Certificates as Kind/name. */}}
{{- define "fleetchat.certManagerIssuer" -}}
{{- with .Values.tls.certManager.issuerRef }}
{{- printf "%s/%s" (default "Issuer" .kind) .name }}
{{- else }}
{{- printf "Issuer/%s-ca" (include "fleetchat.fullname" .) }}
{{- end }}
{{- end }}

{{/* ConfigMap entries naming the mounted credentials: include with (dict "ctx" . "tls" true). */}}
{{- define "fleetchat.credentialEnv" -}}
{{- if and .ctx.Values.tls.enabled .tls }}
FLEETCHAT_TLS_CERT: /etc/fleetchat/tls/tls.crt
FLEETCHAT_TLS_KEY: /etc/fleetchat/tls/tls.key
FLEETCHAT_TLS_CA: /etc/fleetchat/tls/ca.crt
{{- end }}
{{- if .ctx.Values.clusterToken.enabled }}
FLEETCHAT_CLUSTER_TOKEN_FILE: /etc/fleetchat/cluster-token/token
{{- end }}
{{- end }}

{{/* volumeMounts of the credentials: include with (dict "ctx" . "tls" true). */}}
{{- define "fleetchat.credentialMounts" -}}
{{- if and .ctx.Values.tls.enabled .tls }}
- { name: cluster-tls, mountPath: /etc/fleetchat/tls, readOnly: true }
{{- end }}
{{- if .ctx.Values.clusterToken.enabled }}
- { name: cluster-token, mountPath: /etc/fleetchat/cluster-token, readOnly: true }
{{- end }}
{{- end }}

{{/* volumes of the credentials: include with (dict "ctx" . "role" "controller" "tls" true). */}}
{{- define "fleetchat.credentialVolumes" -}}
{{- if and .ctx.Values.tls.enabled .tls }}
- name: cluster-tls
  secret:
    secretName: {{ include "fleetchat.tlsSecret" . }}
    defaultMode: 0440
{{- end }}
{{- if .ctx.Values.clusterToken.enabled }}
- name: cluster-token
  secret:
    secretName: {{ include "fleetchat.tokenSecret" .ctx }}
    defaultMode: 0440
    items:
      - { key: token, path: token }
{{- end }}
{{- end }}

{{/* A gRPC readiness probe works only on a plaintext port without a token; otherwise /readyz on the metrics port. */}}
{{- define "fleetchat.internalPlaintext" -}}
{{- if not (or .Values.tls.enabled .Values.clusterToken.enabled) }}true{{ end }}
{{- end }}
