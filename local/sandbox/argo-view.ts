/**
 * The Argo CD controller's clock for the sandbox, and what the console shows of it: every tick reads
 * each app through the stand-in's API (each read moves a sync or rollout one step on) and keeps the
 * answer, with the images the synced revision deploys.
 */
import type { ArgoCdServer, StandInApp } from '../stand-ins/argocd/server.js';
import { imagesAt } from './deployed-images.js';
import { everyInterval } from './every-interval.js';
import type { ArgoAppView } from './server.js';

export interface ArgoWatch {
  /** The apps as last read. */
  apps(): ArgoAppView[];
  /** Reads every app once now. */
  read(): Promise<void>;
  stop(): void;
}

interface ApplicationStatus {
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string };
  };
}

/** Reads every app once, then every `intervalMs` until stopped. */
export async function watchArgoCd(options: {
  readonly argocd: Pick<ArgoCdServer, 'url'>;
  readonly apps: readonly StandInApp[];
  readonly token: string;
  readonly repoDir: string;
  /** The repository an app's path lives in, when not `repoDir` (production in its own repository). */
  readonly repoDirOf?: (path: string) => string;
  readonly intervalMs: number;
}): Promise<ArgoWatch> {
  const view = new Map<string, ArgoAppView>();
  const imageCache = new Map<string, string[]>();

  const imagesOf = async (revision: string | undefined, path: string): Promise<string[]> => {
    if (!revision) return [];
    const key = `${revision}:${path}`;
    let images = imageCache.get(key);
    if (!images) {
      images = await imagesAt(options.repoDirOf?.(path) ?? options.repoDir, revision, path);
      imageCache.set(key, images);
    }
    return images;
  };

  const read = async () => {
    for (const app of options.apps) {
      const response = await fetch(`${options.argocd.url}/api/v1/applications/${app.name}`, {
        headers: { authorization: `Bearer ${options.token}` },
      }).catch(() => undefined);
      if (!response?.ok) continue;
      const status = ((await response.json()) as ApplicationStatus).status ?? {};
      view.set(app.name, {
        name: app.name,
        syncStatus: status.sync?.status ?? 'Unknown',
        healthStatus: status.health?.status ?? 'Unknown',
        revision: status.sync?.revision,
        operationPhase: status.operationState?.phase,
        message: status.health?.message,
        images: await imagesOf(status.sync?.revision, app.path),
      });
    }
  };

  await read();
  return { apps: () => [...view.values()], read, stop: everyInterval(read, options.intervalMs) };
}
