/**
 * The config as a deployed Lambda sees it: the synthesized stack puts the validated config (secret
 * references only, never secrets) in the SHIPLANE_CONFIG environment variable.
 */
import { ConfigError } from '../errors.js';
import { freezeWindowInput } from './freeze.js';
import type { Config, ConfigInput } from './schema.js';

export const CONFIG_ENV = 'SHIPLANE_CONFIG';

/**
 * How a handler validates SHIPLANE_CONFIG: validate.ts's parseConfigWithTagPatterns (what reads tag
 * patterns: the intake and the sweep), or shape.ts's parseConfigShape (what never does). The caller
 * picks, so a bundle carries RE2 only where it is chosen. Neither checks freeze windows' cron
 * patterns (croner): that config was checked in full at synth (load.ts).
 */
export type ConfigParser = (raw: unknown, source: string) => Config;

let cached: { raw: string; parse: ConfigParser; config: Config } | undefined;

/** The config in SHIPLANE_CONFIG, validated with `parse`; read once per value. */
export function runtimeConfig(parse: ConfigParser, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = env[CONFIG_ENV];
  if (!raw) throw new ConfigError(CONFIG_ENV, [{ path: '(env)', message: `${CONFIG_ENV} is not set` }]);
  if (cached?.raw === raw && cached.parse === parse) return cached.config;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(CONFIG_ENV, [{ path: '(env)', message: `${CONFIG_ENV} is not JSON` }]);
  }
  const config = parse(parsed, CONFIG_ENV);
  cached = { raw, parse, config };
  return config;
}

/** Serializes a config input for the SHIPLANE_CONFIG variable. */
export function serializeConfigInput(input: ConfigInput): string {
  return JSON.stringify(input);
}

/** Renders a validated config back into the file's form, so it can be validated again on the other side. */
export function toConfigInput(config: Config): ConfigInput {
  const ref = (r: { source: string; name: string }) => `${r.source}:${r.name}`;
  const seconds = (n: number) => `${n}s`;
  const { github } = config.gitops;
  return {
    gitops: {
      repository: config.gitops.repository,
      branch: config.gitops.branch,
      github: {
        apiUrl: github.apiUrl,
        ...(github.token ? { token: ref(github.token) } : {}),
        ...(github.app ? { app: { ...github.app, privateKey: ref(github.app.privateKey) } } : {}),
      },
    },
    argocd: { url: config.argocd.url, token: ref(config.argocd.token) },
    slack: {
      ...config.slack,
      botToken: ref(config.slack.botToken),
      signingSecret: ref(config.slack.signingSecret),
    },
    alerts: config.alerts,
    apps: Object.fromEntries(
      Object.entries(config.apps).map(([name, { scan, ...app }]) => [
        name,
        { ...app, ...(scan ? { scan: { ...scan, timeout: seconds(scan.timeout) } } : {}) },
      ]),
    ),
    stages: config.stages.map(({ approval, freeze, pullRequest, ...stage }) => ({
      ...stage,
      ...(pullRequest ? { pullRequest: { ...pullRequest, timeout: seconds(pullRequest.timeout) } } : {}),
      freeze: freeze.map(freezeWindowInput),
      healthTimeout: seconds(stage.healthTimeout),
      pollInterval: seconds(stage.pollInterval),
      ...(approval
        ? { approval: { approvers: approval.approvers, timeout: seconds(approval.timeout) } }
        : {}),
    })),
    secrets: config.secrets,
    secretSync: { interval: seconds(config.secretSync.interval) },
    intake: { sweep: config.intake.sweep === 'off' ? 'off' : seconds(config.intake.sweep) },
    observability: config.observability,
    ...(config.aws ? { aws: config.aws } : {}),
    metrics: config.metrics,
  };
}
