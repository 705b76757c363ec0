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

{{/* Usage: include "mapreduce.combinerCommand" . -- the combiner command; empty for none. As
in Hadoop there is none unless asked (`combiner: true`, or a combiner script or command); by
default only the built-in reducer, which is associative, also combines. */}}
{{- define "mapreduce.combinerCommand" -}}
{{- $asked := .Values.combiner }}
{{- $builtinReducer := not (or .Values.reducerCommand .Values.reducerScript) }}
{{- if and (gt (int .Values.reducers) 0) (not (eq $asked false)) }}
{{- if .Values.combinerCommand }}
{{- .Values.combinerCommand }}
{{- else if .Values.combinerScript }}
{{- "python3 /etc/mapreduce/combiner.py" }}
{{- else if or $asked $builtinReducer }}
{{- include "mapreduce.reducerCommand" . }}
{{- end }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.hasScripts" . -- "true" when a scripts ConfigMap is needed. */}}
{{- define "mapreduce.hasScripts" -}}
{{- if or .Values.mapperScript .Values.reducerScript .Values.combinerScript }}true{{ end }}
{{- end }}

{{/* Usage: include "mapreduce.hasEtc" . -- "true" when the pods mount /etc/mapreduce (the
user's scripts or files). */}}
{{- define "mapreduce.hasEtc" -}}
{{- if or (include "mapreduce.hasScripts" .) .Values.files }}true{{ end }}
{{- end }}

{{/* Usage: include "mapreduce.taskArgs" . | fromJsonArray -- the arguments that place a task
in this run: the job directory and the task's index. */}}
{{- define "mapreduce.taskArgs" -}}
{{- toJson (list "--job-dir" (include "mapreduce.jobDir" .) "--index" (dict "var" "JOB_COMPLETION_INDEX")) }}
{{- end }}

{{/* Usage: include "mapreduce.noSpaceExitCode" . -- the engine's own exit code for a full
disk or volume (ExitCode.NO_SPACE in scripts/mapreduce/settings.py): retries cannot help, so the
index fails at once. Not a value: the engine has no option for it. */}}
{{- define "mapreduce.noSpaceExitCode" -}}
75
{{- end }}

{{/* Usage: include "mapreduce.exitCodeArgs" . | fromJsonArray -- the exit codes the Jobs'
podFailurePolicy relies on, for the engine's map and reduce tasks. */}}
{{- define "mapreduce.exitCodeArgs" -}}
{{- toJson (list "--bad-input-exit-code" (int .Values.badInputExitCode) "--map-stage-failed-exit-code" (int .Values.mapStageFailedExitCode)) }}
{{- end }}

{{/* Usage: include "mapreduce.jobProperties" . | fromJson -- the job's properties by Hadoop's
names: `jobConf` and the properties of the values that stand for Hadoop Streaming options. */}}
{{- define "mapreduce.jobProperties" -}}
{{- $props := dict }}
{{- range $name, $value := .Values.jobConf }}
{{- $_ := set $props $name (toString $value) }}
{{- end }}
{{- with .Values.inputFormat }}
{{- $_ := set $props "mapred.input.format.class" . }}
{{- end }}
{{- with .Values.outputFormat }}
{{- $_ := set $props "mapred.output.format.class" . }}
{{- end }}
{{- with .Values.partitioner }}
{{- $_ := set $props "mapred.partitioner.class" . }}
{{- end }}
{{- if .Values.outputCompression }}
{{- $_ := set $props "mapreduce.output.fileoutputformat.compress" "true" }}
{{- $_ := set $props "mapreduce.output.fileoutputformat.compress.codec" "org.apache.hadoop.io.compress.GzipCodec" }}
{{- end }}
{{- toJson $props }}
{{- end }}

{{/* Usage: include "mapreduce.filesDir" . -- where the `files` ConfigMap is mounted. */}}
{{- define "mapreduce.filesDir" -}}
/etc/mapreduce/files
{{- end }}

{{/* Usage: include "mapreduce.jobArgs" . | fromJsonArray -- the job's settings for the tasks
that run user commands, as run-local passes them: the three commands (a map task needs to know
the reducer, a reduce task the mapper), `-D NAME=VALUE`, `--cmdenv NAME=VALUE` and
`--file PATH`, each sorted by name. */}}
{{- define "mapreduce.jobArgs" -}}
{{- $args := list "--mapper" (include "mapreduce.mapperCommand" .) "--reducer" (include "mapreduce.reducerCommand" .) }}
{{- with include "mapreduce.combinerCommand" . }}
{{- $args = concat $args (list "--combiner" .) }}
{{- end }}
{{- $props := include "mapreduce.jobProperties" . | fromJson }}
{{- range $name := keys $props | sortAlpha }}
{{- $args = concat $args (list "-D" (printf "%s=%s" $name (get $props $name))) }}
{{- end }}
{{- range $name := keys .Values.cmdenv | sortAlpha }}
{{- $args = concat $args (list "--cmdenv" (printf "%s=%s" $name (get $.Values.cmdenv $name | toString))) }}
{{- end }}
{{- range $name := keys .Values.files | sortAlpha }}
{{- $args = concat $args (list "--file" (printf "%s/%s" (include "mapreduce.filesDir" $) $name)) }}
{{- end }}
{{- toJson $args }}
{{- end }}
