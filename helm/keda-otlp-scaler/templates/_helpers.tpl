{{/* Kubernetes names are DNS labels: at most 63 characters. */}}
{{- define "keda-otlp-scaler.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release name alone when it already contains the chart name, so `keda-otlp-scaler` stays short. */}}
{{- define "keda-otlp-scaler.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "keda-otlp-scaler.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keda-otlp-scaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "keda-otlp-scaler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "keda-otlp-scaler.labels" -}}
helm.sh/chart: {{ include "keda-otlp-scaler.chart" . }}
{{ include "keda-otlp-scaler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: external-scaler
{{- end }}

{{- define "keda-otlp-scaler.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "keda-otlp-scaler.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "keda-otlp-scaler.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* What KEDA's ScaledObjects put in metadata.scalerAddress. */}}
{{- define "keda-otlp-scaler.scalerAddress" -}}
{{- printf "%s.%s.svc:%d" (include "keda-otlp-scaler.fullname" .) .Release.Namespace (.Values.service.ports.otlpHttp | int) }}
{{- end }}

{{- define "keda-otlp-scaler.tlsSecretName" -}}
{{- required "tls.secretName is required when tls.enabled is true" .Values.tls.secretName }}
{{- end }}

{{- define "keda-otlp-scaler.caSecretName" -}}
{{- default (include "keda-otlp-scaler.tlsSecretName" .) .Values.tls.clientAuth.caSecretName }}
{{- end }}

{{- define "keda-otlp-scaler.mtls" -}}
{{- if and .Values.tls.enabled .Values.tls.clientAuth.enabled }}true{{ end }}
{{- end }}

{{/*
Settings that YAML may give as numbers: rendered as integers (a large number would otherwise print
as 5e+07), strings kept as written.
*/}}
{{- define "keda-otlp-scaler.settingValue" -}}
{{- if kindIs "string" . }}{{ . | quote }}{{ else if kindIs "bool" . }}{{ . | toString | quote }}{{ else }}{{ . | int64 | toString | quote }}{{ end }}
{{- end }}

{{/*
Kubelet probes have no client certificate: under mTLS the API port refuses them, so a TCP check
stands in. Under plain TLS the kubelet does not verify the certificate, so HTTPS works.
*/}}
{{- define "keda-otlp-scaler.probeHandler" -}}
{{- if include "keda-otlp-scaler.mtls" .root -}}
tcpSocket:
  port: http
{{- else -}}
httpGet:
  path: {{ .path }}
  port: http
  scheme: {{ ternary "HTTPS" "HTTP" .root.Values.tls.enabled }}
{{- end }}
{{- end }}

{{/* The PersistentVolumeClaim of the data dir, empty when the data dir is an emptyDir or off. */}}
{{- define "keda-otlp-scaler.claim" -}}
{{- if and .Values.persistence.enabled .Values.persistence.claim.enabled }}
{{- default (printf "%s-data" (include "keda-otlp-scaler.fullname" .)) .Values.persistence.claim.existingClaim }}
{{- end }}
{{- end }}

{{/* The headless Service the replicas find each other through (every pod, ready or not). */}}
{{- define "keda-otlp-scaler.peersService" -}}
{{- printf "%s-peers" (include "keda-otlp-scaler.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "keda-otlp-scaler.replicated" -}}
{{- if gt (int .Values.replicaCount) 1 }}true{{ end }}
{{- end }}
