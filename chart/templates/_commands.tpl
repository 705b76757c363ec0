{{/* Command lines: the user's streaming commands and the engine's arguments. An argument list
is a list of strings, or of (dict "var" NAME) for a reference Kubernetes fills in, $(NAME): the
container helper escapes every `$` of the strings, so user text reaches the engine unchanged. */}}

{{/* Usage: include "mapreduce.stepCommand" (dict "command" C "script" S "file" F "builtin" B)
-- one streaming command: the explicit command C, else the ConfigMap script F when S is set, else
the image's built-in script B. */}}
{{- define "mapreduce.stepCommand" -}}
{{- if .command }}
{{- .command }}
{{- else if .script }}
{{- printf "python3 /etc/mapreduce/%s" .file }}
{{- else }}
{{- printf "python3 /opt/mapreduce/%s" .builtin }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.mapperCommand" . */}}
{{- define "mapreduce.mapperCommand" -}}
{{- include "mapreduce.stepCommand" (dict "command" .Values.mapperCommand "script" .Values.mapperScript "file" "mapper.py" "builtin" "mapper.py") }}
{{- end }}

{{/* Usage: include "mapreduce.reducerCommand" . */}}
{{- define "mapreduce.reducerCommand" -}}
{{- include "mapreduce.stepCommand" (dict "command" .Values.reducerCommand "script" .Values.reducerScript "file" "reducer.py" "builtin" "reducer.py") }}
{{- end }}

{{/* Usage: include "mapreduce.combinerCommand" . -- the combiner command; empty for none. */}}
{{- define "mapreduce.combinerCommand" -}}
{{- if and .Values.combiner (gt (int .Values.reducers) 0) }}
{{- if .Values.combinerCommand }}
{{- .Values.combinerCommand }}
{{- else if .Values.combinerScript }}
{{- "python3 /etc/mapreduce/combiner.py" }}
{{- else }}
{{- include "mapreduce.reducerCommand" . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.hasScripts" . -- "true" when a scripts ConfigMap is needed. */}}
{{- define "mapreduce.hasScripts" -}}
{{- if or .Values.mapperScript .Values.reducerScript .Values.combinerScript }}true{{ end }}
{{- end }}

{{/* Usage: include "mapreduce.taskArgs" . | fromJsonArray -- the arguments that place a task
in this run: the job directory and the task's index. */}}
{{- define "mapreduce.taskArgs" -}}
{{- toJson (list "--job-dir" (include "mapreduce.jobDir" .) "--index" (dict "var" "JOB_COMPLETION_INDEX")) }}
{{- end }}

{{/* Usage: include "mapreduce.exitCodeArgs" . | fromJsonArray -- the exit codes the Jobs'
podFailurePolicy relies on, for the engine's map and reduce tasks. */}}
{{- define "mapreduce.exitCodeArgs" -}}
{{- toJson (list "--bad-input-exit-code" (int .Values.badInputExitCode) "--map-stage-failed-exit-code" (int .Values.mapStageFailedExitCode)) }}
{{- end }}
