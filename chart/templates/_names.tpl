{{/* Names and labels. Helpers here take the root context. */}}

{{/* Usage: include "mapreduce.name" . -- the chart name (nameOverride). */}}
{{- define "mapreduce.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Usage: include "mapreduce.fullname" . -- prefix of every resource name, at most 40
characters so that the per-run Job names (fullname-reduce-rNNNN) and the pod names made from them
stay within the Kubernetes limits. A release name that contains the chart name is used as is. */}}
{{- define "mapreduce.fullname" -}}
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

{{/* Usage: include "mapreduce.chart" . -- chart name and version for the helm.sh/chart label. */}}
{{- define "mapreduce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Usage: include "mapreduce.labels" . -- the common labels of every resource. */}}
{{- define "mapreduce.labels" -}}
helm.sh/chart: {{ include "mapreduce.chart" . }}
{{ include "mapreduce.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "mapreduce.name" . }}
{{- end }}

{{/* Usage: include "mapreduce.selectorLabels" . -- the labels that identify the release. */}}
{{- define "mapreduce.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mapreduce.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Usage: include "mapreduce.metadata" (dict "ctx" $ "name" NAME "component" C) -- name,
namespace and labels of a namespaced resource of this release. */}}
{{- define "mapreduce.metadata" -}}
name: {{ .name }}
namespace: {{ .ctx.Release.Namespace }}
labels:
  {{- include "mapreduce.labels" .ctx | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Usage: include "mapreduce.serviceAccountName" . -- the service account of every pod. */}}
{{- define "mapreduce.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mapreduce.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.mapJobName" . -- the map Job of this revision (a new name per
revision, so an upgrade makes a new Job: no "field is immutable"). */}}
{{- define "mapreduce.mapJobName" -}}
{{- printf "%s-map-r%d" (include "mapreduce.fullname" .) (int .Release.Revision) }}
{{- end }}

{{/* Usage: include "mapreduce.reduceJobName" . -- the reduce hook Job of this revision. */}}
{{- define "mapreduce.reduceJobName" -}}
{{- printf "%s-reduce-r%d" (include "mapreduce.fullname" .) (int .Release.Revision) }}
{{- end }}

{{/* Usage: include "mapreduce.claimName" . -- the claim every pod mounts. */}}
{{- define "mapreduce.claimName" -}}
{{- if .Values.storage.existingClaim }}
{{- .Values.storage.existingClaim }}
{{- else }}
{{- printf "%s-data" (include "mapreduce.fullname" .) }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.nfsVolumeName" . -- the NFS PersistentVolume. It is
cluster-scoped: its name carries the namespace, and a hash of namespace and fullname keeps two
releases apart even where the readable part is cut short. */}}
{{- define "mapreduce.nfsVolumeName" -}}
{{- $full := include "mapreduce.fullname" . }}
{{- $hash := printf "%s/%s" .Release.Namespace $full | sha256sum | trunc 10 }}
{{- printf "%s-%s" (printf "%s-%s" .Release.Namespace $full | trunc 48 | trimSuffix "-") $hash }}
{{- end }}

{{/* Usage: include "mapreduce.scriptsName" . -- the ConfigMap of the user's scripts. */}}
{{- define "mapreduce.scriptsName" -}}
{{- printf "%s-scripts" (include "mapreduce.fullname" .) }}
{{- end }}

{{/* Usage: include "mapreduce.filesName" . -- the ConfigMap of the job's side files. */}}
{{- define "mapreduce.filesName" -}}
{{- printf "%s-files" (include "mapreduce.fullname" .) }}
{{- end }}
