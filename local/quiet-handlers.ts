/**
 * Makes the handlers' Powertools output quiet when they run in this process: the terminal shows the
 * timeline, not JSON logs. Call it before the handlers are imported (Powertools reads its settings
 * then). Values already set win, so `POWERTOOLS_LOG_LEVEL=DEBUG shiplane sandbox` still logs.
 */
export function quietHandlers(env: NodeJS.ProcessEnv = process.env): void {
  env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  // Nothing here calls AWS; the SDK's notice about future Node versions would only be noise.
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
