{{/*
Naming and labels. Component templates take a context dict: (dict "root" $ "component" "api").
*/}}

{{- define "wa-notify.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-wide name, 63 characters at most; the release name alone when it contains the chart name. */}}
{{- define "wa-notify.fullname" -}}
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

{{- define "wa-notify.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <fullname>-<component>, leaving room for the pod-template-hash suffixes. */}}
{{- define "wa-notify.componentName" -}}
{{- printf "%s-%s" (include "wa-notify.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "wa-notify.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wa-notify.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "wa-notify.labels" -}}
helm.sh/chart: {{ include "wa-notify.chart" . }}
{{ include "wa-notify.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wa-notify
{{- end }}

{{- define "wa-notify.componentSelectorLabels" -}}
{{ include "wa-notify.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "wa-notify.componentLabels" -}}
{{ include "wa-notify.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "wa-notify.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "wa-notify.configMapName" -}}
{{- printf "%s-config" (include "wa-notify.fullname" .) }}
{{- end }}

{{/* The Secret every component reads: secrets.existingSecret or the one the chart creates. */}}
{{- define "wa-notify.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- include "wa-notify.fullname" . }}
{{- end }}
{{- end }}

{{/* The Secret the migration hook reads: a hook copy unless an existing Secret is used. */}}
{{- define "wa-notify.migrateSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "wa-notify.fullname" .) }}
{{- end }}
{{- end }}

{{- define "wa-notify.serviceAccountName" -}}
{{- $values := index .root.Values .component }}
{{- if .root.Values.serviceAccount.create }}
{{- default (include "wa-notify.componentName" .) $values.serviceAccount.name }}
{{- else }}
{{- default "default" $values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "wa-notify.leaseName" -}}
{{- default (printf "%s-scheduler" (include "wa-notify.fullname" .)) .Values.scheduler.leaderElection.leaseName }}
{{- end }}

{{/* Non-secret settings shared by every component (the ConfigMap data). Values are strings. */}}
{{- define "wa-notify.configData" -}}
QUEUE_BACKEND: {{ .Values.queue.backend | quote }}
QUEUE_VISIBILITY_TIMEOUT_SECONDS: {{ .Values.queue.visibilityTimeoutSeconds | int64 | toString | quote }}
QUEUE_WAIT_SECONDS: {{ .Values.queue.waitSeconds | toString | quote }}
QUEUE_MAX_RECEIVES: {{ .Values.queue.maxReceives | int64 | toString | quote }}
SQS_QUEUE_URL: {{ .Values.sqs.queueUrl | quote }}
SQS_QUEUE_URL_HIGH: {{ .Values.sqs.queueUrlHigh | quote }}
SQS_QUEUE_URL_LOW: {{ .Values.sqs.queueUrlLow | quote }}
WORKER_PRIORITY_WEIGHTS: {{ .Values.worker.priorityWeights | quote }}
SQS_ENDPOINT_URL: {{ .Values.sqs.endpointUrl | quote }}
SQS_DLQ_URL: {{ .Values.sqs.dlqUrl | quote }}
BREAKER_FAILURE_THRESHOLD: {{ .Values.worker.breaker.failureThreshold | int64 | toString | quote }}
BREAKER_COOLDOWN_SECONDS: {{ .Values.worker.breaker.cooldownSeconds | toString | quote }}
TEMPLATE_SYNC_INTERVAL_SECONDS: {{ .Values.scheduler.templateSyncIntervalSeconds | int64 | toString | quote }}
AWS_REGION: {{ .Values.sqs.region | quote }}
DATABASE_POOL_SIZE: {{ .Values.database.poolSize | int64 | toString | quote }}
META_GRAPH_BASE_URL: {{ .Values.meta.graphBaseUrl | quote }}
META_GRAPH_VERSION: {{ .Values.meta.graphVersion | quote }}
META_TIMEOUT_SECONDS: {{ .Values.meta.timeoutSeconds | toString | quote }}
API_HOST: "0.0.0.0"
API_PORT: {{ .Values.api.port | int64 | toString | quote }}
API_MAX_BODY_BYTES: {{ .Values.api.maxBodyBytes | int64 | toString | quote }}
RECEIVER_HOST: "0.0.0.0"
RECEIVER_PORT: {{ .Values.receiver.port | int64 | toString | quote }}
WORKER_HOST: "0.0.0.0"
WORKER_PORT: {{ .Values.worker.port | int64 | toString | quote }}
SCHEDULER_HOST: "0.0.0.0"
SCHEDULER_PORT: {{ .Values.scheduler.port | int64 | toString | quote }}
LOG_LEVEL: {{ .Values.logLevel | quote }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .Values.otel.endpoint | quote }}
OTEL_TRACES_SAMPLER_ARG: {{ .Values.otel.samplerRatio | toString | quote }}
{{- end }}

{{/* Secret data (base64), from values. Optional AWS keys only when set. */}}
{{- define "wa-notify.secretData" -}}
DATABASE_URL: {{ .Values.database.url | b64enc | quote }}
REDIS_URL: {{ .Values.redis.url | b64enc | quote }}
META_APP_SECRET: {{ .Values.meta.appSecret | b64enc | quote }}
META_VERIFY_TOKEN: {{ .Values.meta.verifyToken | b64enc | quote }}
WA_ENCRYPTION_KEY: {{ .Values.secrets.encryptionKey | b64enc | quote }}
{{- if .Values.sqs.accessKeyId }}
AWS_ACCESS_KEY_ID: {{ .Values.sqs.accessKeyId | b64enc | quote }}
{{- end }}
{{- if .Values.sqs.secretAccessKey }}
AWS_SECRET_ACCESS_KEY: {{ .Values.sqs.secretAccessKey | b64enc | quote }}
{{- end }}
{{- end }}

{{/* Downward-API identity and OpenTelemetry resource env, for every container of the release. */}}
{{- define "wa-notify.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OTEL_SERVICE_NAME
  value: {{ printf "wa-notify-%s" .component | quote }}
{{- $attrs := list "k8s.pod.name=$(POD_NAME)" "k8s.namespace.name=$(POD_NAMESPACE)" }}
{{- range $k, $v := .root.Values.otel.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%v" $k $v) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- end }}

{{/* The /tmp emptyDir (read-only root filesystem). */}}
{{- define "wa-notify.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpVolume.sizeLimit }}
{{- end }}

{{- define "wa-notify.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* HTTP probes on the container port named "http": liveness /livez, readiness /health. */}}
{{- define "wa-notify.probes" -}}
startupProbe:
  httpGet:
    path: /livez
    port: http
  {{- toYaml .probes.startup | nindent 2 }}
livenessProbe:
  httpGet:
    path: /livez
    port: http
  {{- toYaml .probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /health
    port: http
  {{- toYaml .probes.readiness | nindent 2 }}
{{- end }}

{{/* Hook annotations for the migration Job and the ConfigMap/Secret copies it reads. */}}
{{- define "wa-notify.migrateHookAnnotations" -}}
helm.sh/hook: {{ join "," .root.Values.migrate.hooks | quote }}
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}
