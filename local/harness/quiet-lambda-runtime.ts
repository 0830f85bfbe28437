/**
 * The Lambda handlers run in this process during drills and workflow tests. Their Powertools
 * logger, metrics and tracer are for CloudWatch and X-Ray; here they would only flood the drill's
 * output with JSON, so they are switched off before any handler module loads (Powertools reads
 * these when the logger, metrics and tracer are constructed).
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_SERVICE_NAME ??= 'aor-local';
// The pinned SDK is tested on Node 20 here; its notice that later releases need Node 22 is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
