{{/* Pod parts: image, the Jobs' retry rules, pod settings, the container of every engine step,
volumes. */}}

{{/* Usage: include "mapreduce.image" (dict "ctx" $ "image" .Values.images.mapper) -- an image
reference: the digest pins it when set, else the tag (default: the chart's appVersion). */}}
{{- define "mapreduce.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.indexedJobSpec" (dict "ctx" $ "stage" .Values.map "completions" N
"parallelism" P "maxFailedIndexes" F "container" C "exitCodes" L) -- the spec of an Indexed Job
up to its pod template: index I is task I; an attempt retries alone (backoffLimitPerIndex of the
stage); container C exiting with a code of L fails its index at once; an evicted or preempted
pod is replaced without counting as a failure. */}}
{{- define "mapreduce.indexedJobSpec" -}}
completionMode: Indexed
completions: {{ .completions }}
parallelism: {{ .parallelism }}
backoffLimitPerIndex: {{ .stage.backoffLimitPerIndex }}
maxFailedIndexes: {{ .maxFailedIndexes }}
podReplacementPolicy: Failed
podFailurePolicy:
  rules:
    - action: FailIndex
      onExitCodes:
        containerName: {{ .container }}
        operator: In
        values:
          {{- /* the API wants them ordered and unique */}}
          {{- $padded := list }}
          {{- range .exitCodes }}
          {{- $padded = append $padded (printf "%03d" (int .)) }}
          {{- end }}
          {{- range $padded | sortAlpha | uniq }}
          - {{ atoi . }}
          {{- end }}
    - action: Ignore
      onPodConditions:
        - type: DisruptionTarget
          status: "True"
{{- with .stage.activeDeadlineSeconds }}
activeDeadlineSeconds: {{ . }}
{{- end }}
{{- if not (kindIs "invalid" .ctx.Values.ttlSecondsAfterFinished) }}
ttlSecondsAfterFinished: {{ .ctx.Values.ttlSecondsAfterFinished }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.podMetadata" (dict "ctx" $ "component" C) -- pod template
metadata. */}}
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

{{/* Usage: include "mapreduce.podSpecCommon" . -- pod-level settings of every pod (Pod
Security "restricted", no service-account token). */}}
{{- define "mapreduce.podSpecCommon" -}}
restartPolicy: Never
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

{{/* Usage: include "mapreduce.container" (dict "ctx" $ "name" N "step" S "args" A "image" I
"resources" R ["command" C] ["mounts" M]) -- one container: by default the engine step S
(`python3 -S -m mapreduce S A...`); with "command" C, that command and A. Every `$` of a string
argument is escaped (Kubernetes would expand `$(NAME)`); (dict "var" NAME) renders $(NAME). The
mounts M default to the engine pods' mounts. */}}
{{- define "mapreduce.container" -}}
{{- $ctx := .ctx -}}
- name: {{ .name }}
  image: {{ include "mapreduce.image" (dict "ctx" $ctx "image" .image) | quote }}
  imagePullPolicy: {{ .image.pullPolicy }}
  command:
    {{- range (.command | default (list "python3" "-S" "-m" "mapreduce")) }}
    - {{ . | quote }}
    {{- end }}
  args:
    {{- with .step }}
    - {{ . | quote }}
    {{- end }}
    {{- range .args }}
    {{- if kindIs "map" . }}
    - {{ printf "$(%s)" .var | quote }}
    {{- else }}
    - {{ toString . | replace "$" "$$" | quote }}
    {{- end }}
    {{- end }}
  env:
    {{- include "mapreduce.env" $ctx | nindent 4 }}
  terminationMessagePolicy: FallbackToLogsOnError
  securityContext:
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    runAsNonRoot: true
    runAsUser: {{ $ctx.Values.securityContext.runAsUser }}
    runAsGroup: {{ $ctx.Values.securityContext.runAsGroup }}
    capabilities:
      drop:
        - ALL
    seccompProfile:
      type: RuntimeDefault
  resources:
    {{- toYaml .resources | nindent 4 }}
  volumeMounts:
    {{- if .mounts }}
    {{- toYaml .mounts | nindent 4 }}
    {{- else }}
    {{- include "mapreduce.volumeMounts" $ctx | nindent 4 }}
    {{- end }}
{{- end }}

{{/* Usage: include "mapreduce.env" . -- the environment of every container. Values are
escaped like arguments: Kubernetes expands `$(NAME)` in env values too. */}}
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
{{- range $name, $value := .Values.extraEnv }}
- name: {{ $name }}
  value: {{ toString $value | replace "$" "$$" | quote }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.tmpVolume" . -- the scratch emptyDir mounted at /tmp. */}}
{{- define "mapreduce.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- if .Values.shuffle.scratchSizeLimit }}
    sizeLimit: {{ .Values.shuffle.scratchSizeLimit }}
    {{- else }}
    {}
    {{- end }}
{{- end }}

{{/* Usage: include "mapreduce.volumes" . -- volumes of the map and reduce pods. */}}
{{- define "mapreduce.volumes" -}}
- name: data
  persistentVolumeClaim:
    claimName: {{ include "mapreduce.claimName" . }}
{{ include "mapreduce.tmpVolume" . }}
{{- if include "mapreduce.hasEtc" . }}
# One projected volume: the files' directory inside the scripts' one (a mount inside a
# configMap mount would need a directory in a read-only volume).
- name: etc
  projected:
    defaultMode: 0444
    sources:
      {{- if include "mapreduce.hasScripts" . }}
      - configMap:
          name: {{ include "mapreduce.scriptsName" . }}
      {{- end }}
      {{- with .Values.files }}
      - configMap:
          name: {{ include "mapreduce.filesName" $ }}
          items:
            {{- range $name := keys . | sortAlpha }}
            - key: {{ $name | quote }}
              path: {{ printf "files/%s" $name | quote }}
            {{- end }}
      {{- end }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.volumeMounts" . -- mounts of the map and reduce containers. */}}
{{- define "mapreduce.volumeMounts" -}}
- name: data
  mountPath: {{ .Values.storage.mountPath }}
- name: tmp
  mountPath: /tmp
{{- if include "mapreduce.hasEtc" . }}
- name: etc
  mountPath: /etc/mapreduce
  readOnly: true
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.hookDeletePolicy" . -- delete policy of the hook resources. */}}
{{- define "mapreduce.hookDeletePolicy" -}}
{{- if .Values.keepFailedHooks -}}
before-hook-creation,hook-succeeded
{{- else -}}
before-hook-creation,hook-succeeded,hook-failed
{{- end }}
{{- end }}
