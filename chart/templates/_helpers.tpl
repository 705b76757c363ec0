{{/*
Expand the name of the chart.
*/}}
{{- define "mapreduce.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name, at most 40 characters so that the per-run Job names
(fullname-reduce-rNNNN...) and the pod names made from them stay within the Kubernetes limits.
If the release name contains the chart name it is used as a full name.
*/}}
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

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "mapreduce.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels
*/}}
{{- define "mapreduce.labels" -}}
helm.sh/chart: {{ include "mapreduce.chart" . }}
{{ include "mapreduce.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "mapreduce.name" . }}
{{- end }}

{{/*
Selector labels
*/}}
{{- define "mapreduce.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mapreduce.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Create the name of the service account to use
*/}}
{{- define "mapreduce.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mapreduce.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------------------------------
Chart-specific helpers. Paths, names and the engine's command lines are computed here once so
every template uses the same values.
--------------------------------------------------------------------------------------- */}}

{{/* Run id: the release revision. Job names and the run/output directories carry it, so an
upgrade makes new Jobs (no "field is immutable") and a fresh run. */}}
{{- define "mapreduce.run" -}}
{{- .Release.Revision }}
{{- end }}

{{/* Name of the map Job of this run. */}}
{{- define "mapreduce.mapJobName" -}}
{{- printf "%s-map-r%d" (include "mapreduce.fullname" .) (int .Release.Revision) }}
{{- end }}

{{/* Name of the reduce Job of this run. */}}
{{- define "mapreduce.reduceJobName" -}}
{{- printf "%s-reduce-r%d" (include "mapreduce.fullname" .) (int .Release.Revision) }}
{{- end }}

{{/* Name of the claim every pod mounts. */}}
{{- define "mapreduce.claimName" -}}
{{- if .Values.storage.existingClaim }}
{{- .Values.storage.existingClaim }}
{{- else }}
{{- printf "%s-data" (include "mapreduce.fullname" .) }}
{{- end }}
{{- end }}

{{/* Name of the NFS PersistentVolume (cluster-scoped, so it carries the namespace). */}}
{{- define "mapreduce.nfsVolumeName" -}}
{{- printf "%s-%s-data" .Release.Namespace (include "mapreduce.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Directory of this release on the shared volume. */}}
{{- define "mapreduce.baseDir" -}}
{{- $default := printf "%s/%s" .Release.Namespace .Release.Name }}
{{- printf "%s/%s" (trimSuffix "/" .Values.storage.mountPath) (default $default .Values.storage.baseDir | trimPrefix "/" | trimSuffix "/") }}
{{- end }}

{{/* Engine job directory (plan, markers, intermediate data) of this run. */}}
{{- define "mapreduce.jobDir" -}}
{{- printf "%s/runs/%d" (include "mapreduce.baseDir" .) (int .Release.Revision) }}
{{- end }}

{{/* Output directory of this run. */}}
{{- define "mapreduce.outputDir" -}}
{{- printf "%s/output/%d" (include "mapreduce.baseDir" .) (int .Release.Revision) }}
{{- end }}

{{/* Whether the generated sample is part of the input. */}}
{{- define "mapreduce.useSample" -}}
{{- $s := .Values.input.sample.enabled }}
{{- if kindIs "bool" $s }}
{{- if $s }}true{{ end }}
{{- else if and (empty .Values.input.paths) (empty .Values.input.urls) }}true
{{- end }}
{{- end }}

{{/* Directory the sample is generated into (keyed by seed and size, kept across runs). */}}
{{- define "mapreduce.sampleDir" -}}
{{- printf "%s/input/sample-%d-%d" (include "mapreduce.baseDir" .) (int64 .Values.input.sample.seed) (int64 .Values.input.sample.bytes) }}
{{- end }}

{{/* Directory the URLs are downloaded into (keyed by the URL list, kept across runs). */}}
{{- define "mapreduce.urlDir" -}}
{{- printf "%s/input/urls-%s" (include "mapreduce.baseDir" .) (.Values.input.urls | join "\n" | sha256sum | trunc 12) }}
{{- end }}

{{/* The map tasks' input arguments, one per line. */}}
{{- define "mapreduce.inputs" -}}
{{- if include "mapreduce.useSample" . }}
{{ include "mapreduce.sampleDir" . }}
{{- end }}
{{- if .Values.input.urls }}
{{ include "mapreduce.urlDir" . }}
{{- end }}
{{- $mount := trimSuffix "/" .Values.storage.mountPath }}
{{- range .Values.input.paths }}
{{- if hasPrefix "/" . }}
{{- if not (or (eq . $mount) (hasPrefix (printf "%s/" $mount) .)) }}
{{- fail (printf "input.paths: %q is not on the shared volume (it must start with storage.mountPath %q, or be relative to it)" . $mount) }}
{{- end }}
{{ . }}
{{- else }}
{{ printf "%s/%s" $mount . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Command line of one streaming step: the explicit command, else the ConfigMap script, else
the image's built-in script. Args: dict with ctx, command, script, file, builtin. */}}
{{- define "mapreduce.stepCommand" -}}
{{- if .command }}
{{- .command }}
{{- else if .script }}
{{- printf "python3 /etc/mapreduce/%s" .file }}
{{- else }}
{{- printf "python3 /opt/mapreduce/%s" .builtin }}
{{- end }}
{{- end }}

{{- define "mapreduce.mapperCommand" -}}
{{- include "mapreduce.stepCommand" (dict "command" .Values.mapperCommand "script" .Values.mapperScript "file" "mapper.py" "builtin" "mapper.py") }}
{{- end }}

{{- define "mapreduce.reducerCommand" -}}
{{- include "mapreduce.stepCommand" (dict "command" .Values.reducerCommand "script" .Values.reducerScript "file" "reducer.py" "builtin" "reducer.py") }}
{{- end }}

{{- define "mapreduce.combinerCommand" -}}
{{- if .Values.combinerCommand }}
{{- .Values.combinerCommand }}
{{- else if .Values.combinerScript }}
{{- "python3 /etc/mapreduce/combiner.py" }}
{{- else }}
{{- include "mapreduce.reducerCommand" . }}
{{- end }}
{{- end }}

{{/* Whether a scripts ConfigMap is needed. */}}
{{- define "mapreduce.hasScripts" -}}
{{- if or .Values.mapperScript .Values.reducerScript .Values.combinerScript }}true{{ end }}
{{- end }}

{{/* Image reference. Args: the image values and the root context. */}}
{{- define "mapreduce.image" -}}
{{- $img := index . 0 }}
{{- $root := index . 1 }}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default $root.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every pod. */}}
{{- define "mapreduce.podSpecCommon" -}}
serviceAccountName: {{ include "mapreduce.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  fsGroup: {{ .Values.securityContext.fsGroup }}
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Pod template metadata shared by every pod. Args: dict ctx, component. */}}
{{- define "mapreduce.podMetadata" -}}
labels:
  {{- include "mapreduce.labels" .ctx | nindent 2 }}
  app.kubernetes.io/component: {{ .component }}
  {{- with .ctx.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with .ctx.Values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Container security context (Pod Security "restricted"). */}}
{{- define "mapreduce.containerSecurityContext" -}}
terminationMessagePolicy: FallbackToLogsOnError
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: {{ .Values.securityContext.runAsUser }}
  runAsGroup: {{ .Values.securityContext.runAsGroup }}
  capabilities:
    drop:
      - ALL
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* Environment of every container. */}}
{{- define "mapreduce.env" -}}
- name: TMPDIR
  value: /tmp
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
- name: PYTHONUNBUFFERED
  value: "1"
- name: MR_SORT_BUFFER
  value: {{ .Values.sortBuffer | quote }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- $reserved := list "TMPDIR" "PYTHONDONTWRITEBYTECODE" "PYTHONUNBUFFERED" "MR_SORT_BUFFER" "POD_NAME" "JOB_COMPLETION_INDEX" }}
{{- range $name, $value := .Values.extraEnv }}
{{- if has $name $reserved }}
{{- fail (printf "extraEnv.%s: this variable is set by the chart and cannot be overridden" $name) }}
{{- end }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* Scratch emptyDir at /tmp. */}}
{{- define "mapreduce.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- if .Values.shuffle.scratchSizeLimit }}
    sizeLimit: {{ .Values.shuffle.scratchSizeLimit }}
    {{- else }}
    {}
    {{- end }}
{{- end }}

{{/* Volumes shared by the map and reduce pods. */}}
{{- define "mapreduce.volumes" -}}
- name: data
  persistentVolumeClaim:
    claimName: {{ include "mapreduce.claimName" . }}
{{ include "mapreduce.tmpVolume" . }}
{{- if include "mapreduce.hasScripts" . }}
- name: scripts
  configMap:
    name: {{ include "mapreduce.fullname" . }}-scripts
    defaultMode: 0444
{{- end }}
{{- end }}

{{/* Volume mounts of the map and reduce containers. */}}
{{- define "mapreduce.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.storage.mountPath }}
- name: tmp
  mountPath: /tmp
{{- if include "mapreduce.hasScripts" . }}
- name: scripts
  mountPath: /etc/mapreduce
  readOnly: true
{{- end }}
{{- end }}

{{/* Annotations of hook resources: delete policy (and log printing in Helm 4). */}}
{{- define "mapreduce.hookDeletePolicy" -}}
{{- if .Values.keepFailedHooks -}}
before-hook-creation,hook-succeeded
{{- else -}}
before-hook-creation,hook-succeeded,hook-failed
{{- end }}
{{- end }}
