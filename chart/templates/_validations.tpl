{{/* Validations: every check the schema cannot express, and every `fail` of the chart. */}}

{{/* Usage: include "mapreduce.validate" . -- fails the render, naming the field, on values
that cannot work. Included once per render (by the map Job). */}}
{{- define "mapreduce.validate" -}}
{{- $reserved := list "TMPDIR" "PYTHONDONTWRITEBYTECODE" "PYTHONUNBUFFERED" "MR_SORT_BUFFER" "POD_NAME" "JOB_COMPLETION_INDEX" }}
{{- range $name, $_ := .Values.extraEnv }}
{{- if has $name $reserved }}
{{- fail (printf "extraEnv.%s: this variable is set by the chart and cannot be overridden" $name) }}
{{- end }}
{{- end }}
{{- if eq (int .Values.badInputExitCode) (int .Values.mapStageFailedExitCode) }}
{{- fail (printf "badInputExitCode and mapStageFailedExitCode are both %d: the Jobs could not tell bad input from a failed map stage; make them differ" (int .Values.badInputExitCode)) }}
{{- end }}
{{- $noSpace := int (include "mapreduce.noSpaceExitCode" .) }}
{{- range $field := list "badInputExitCode" "mapStageFailedExitCode" }}
{{- if eq (int (get $.Values $field)) $noSpace }}
{{- fail (printf "%s: %d is the engine's own exit code for a full volume; choose another" $field $noSpace) }}
{{- end }}
{{- end }}
{{- $owned := dict "mapreduce.job.maps" "mappers" "mapred.map.tasks" "mappers" "mapreduce.job.reduces" "reducers" "mapred.reduce.tasks" "reducers" "mapred.input.format.class" "inputFormat" "mapred.output.format.class" "outputFormat" "mapred.partitioner.class" "partitioner" "mapreduce.output.fileoutputformat.compress" "outputCompression" "mapred.output.compress" "outputCompression" "mapreduce.output.fileoutputformat.compress.codec" "outputCompression" "mapred.output.compression.codec" "outputCompression" "mapreduce.map.maxattempts" "map.backoffLimitPerIndex" "mapred.map.max.attempts" "map.backoffLimitPerIndex" "mapreduce.reduce.maxattempts" "reduce.backoffLimitPerIndex" "mapred.reduce.max.attempts" "reduce.backoffLimitPerIndex" }}
{{- range $name, $_ := .Values.jobConf }}
{{- with get $owned $name }}
{{- fail (printf "jobConf.%s: set the chart value %s instead (the Jobs are shaped by it)" $name .) }}
{{- end }}
{{- end }}
{{- $mount := include "mapreduce.mountPath" . }}
{{- if has $mount (list "/" "/tmp" "/etc" "/etc/mapreduce" "/opt/mapreduce") }}
{{- fail (printf "storage.mountPath: %q is %s, which the pods need for themselves" .Values.storage.mountPath $mount) }}
{{- end }}
{{- $base := include "mapreduce.baseDir" . }}
{{- if not (hasPrefix (printf "%s/" $mount) $base) }}
{{- fail (printf "storage.baseDir: %q leaves the shared volume (it resolves to %s, outside storage.mountPath %s)" .Values.storage.baseDir $base $mount) }}
{{- end }}
{{- range .Values.input.paths }}
{{- $path := include "mapreduce.inputPath" (dict "ctx" $ "path" .) }}
{{- if not (or (eq $path $mount) (hasPrefix (printf "%s/" $mount) $path)) }}
{{- fail (printf "input.paths: %q is not on the shared volume (it resolves to %s; it must be inside storage.mountPath %s, or relative to it)" . $path $mount) }}
{{- end }}
{{- end }}
{{- if not (include "mapreduce.inputs" . | fromJsonArray) }}
{{- fail "input: no input (input.sample.enabled is false and input.paths and input.urls are empty)" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled .Values.input.urls }}
{{- fail "networkPolicy.enabled: the map pods download input.urls and would have no network; download the files into the volume first (input.paths), or leave networkPolicy.enabled false" }}
{{- end }}
{{- $st := .Values.storage }}
{{- if and $st.existingClaim (or $st.nfs.server $st.nfs.path) }}
{{- fail "storage.existingClaim and storage.nfs.server/path exclude each other: set one of them" }}
{{- end }}
{{- if and (or $st.nfs.server $st.nfs.path) (not (and $st.nfs.server $st.nfs.path)) }}
{{- fail "storage.nfs: set both storage.nfs.server and storage.nfs.path" }}
{{- end }}
{{- end }}
