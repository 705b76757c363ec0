{{/* Paths on the shared volume. Every path a pod uses is computed here once, so every template
uses the same ones. Helpers here take the root context. */}}

{{/* Usage: include "mapreduce.run" . -- the id of this run: the revision and a random suffix,
so no two runs share a directory, not even revision 1 of a release installed again over a kept
volume. Made once per render and kept in the root context, so every template of one install or
upgrade sees the same id (`helm test` and scripts/fetch-output read it back from the run
ConfigMap and the annotations, never compute it). */}}
{{- define "mapreduce.run" -}}
{{- if not (hasKey $ "mapreduceRunId") }}
{{- $_ := set $ "mapreduceRunId" (printf "%d-%s" (int .Release.Revision) (randAlphaNum 8 | lower)) }}
{{- end }}
{{- get $ "mapreduceRunId" }}
{{- end }}

{{/* Usage: include "mapreduce.mountPath" . -- where every pod mounts the shared volume. */}}
{{- define "mapreduce.mountPath" -}}
{{- clean .Values.storage.mountPath }}
{{- end }}

{{/* Usage: include "mapreduce.baseDir" . -- this release's directory on the shared volume. */}}
{{- define "mapreduce.baseDir" -}}
{{- $default := printf "%s/%s" .Release.Namespace .Release.Name }}
{{- printf "%s/%s" (include "mapreduce.mountPath" .) (default $default .Values.storage.baseDir | trimPrefix "/") | clean }}
{{- end }}

{{/* Usage: include "mapreduce.jobDir" . -- the engine's job directory (plan, markers,
intermediate data) of this run. */}}
{{- define "mapreduce.jobDir" -}}
{{- printf "%s/runs/%s" (include "mapreduce.baseDir" .) (include "mapreduce.run" .) }}
{{- end }}

{{/* Usage: include "mapreduce.outputDir" . -- the output directory of this run. */}}
{{- define "mapreduce.outputDir" -}}
{{- printf "%s/output/%s" (include "mapreduce.baseDir" .) (include "mapreduce.run" .) }}
{{- end }}

{{/* Usage: include "mapreduce.useSample" . -- "true" when the generated sample is an input. */}}
{{- define "mapreduce.useSample" -}}
{{- $s := .Values.input.sample.enabled }}
{{- if kindIs "bool" $s }}
{{- if $s }}true{{ end }}
{{- else if and (empty .Values.input.paths) (empty .Values.input.urls) }}true
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.sampleDir" . -- where the sample is generated (keyed by seed and
size, kept across runs). */}}
{{- define "mapreduce.sampleDir" -}}
{{- printf "%s/input/sample-%d-%d" (include "mapreduce.baseDir" .) (int64 .Values.input.sample.seed) (int64 .Values.input.sample.bytes) }}
{{- end }}

{{/* Usage: include "mapreduce.urlDir" . -- where the URLs are downloaded (keyed by the URL
list, kept across runs). */}}
{{- define "mapreduce.urlDir" -}}
{{- printf "%s/input/urls-%s" (include "mapreduce.baseDir" .) (.Values.input.urls | join "\n" | sha256sum | trunc 12) }}
{{- end }}

{{/* Usage: include "mapreduce.inputPath" (dict "ctx" $ "path" P) -- input path P as a
normalised path on the volume (no `..`, no `//`): relative paths are relative to the mount
path. */}}
{{- define "mapreduce.inputPath" -}}
{{- if hasPrefix "/" .path }}
{{- clean .path }}
{{- else }}
{{- printf "%s/%s" (include "mapreduce.mountPath" .ctx) .path | clean }}
{{- end }}
{{- end }}

{{/* Usage: include "mapreduce.inputs" . | fromJsonArray -- the map tasks' inputs. */}}
{{- define "mapreduce.inputs" -}}
{{- $inputs := list }}
{{- if include "mapreduce.useSample" . }}
{{- $inputs = append $inputs (include "mapreduce.sampleDir" .) }}
{{- end }}
{{- if .Values.input.urls }}
{{- $inputs = append $inputs (include "mapreduce.urlDir" .) }}
{{- end }}
{{- range .Values.input.paths }}
{{- $inputs = append $inputs (include "mapreduce.inputPath" (dict "ctx" $ "path" .)) }}
{{- end }}
{{- toJson $inputs }}
{{- end }}
