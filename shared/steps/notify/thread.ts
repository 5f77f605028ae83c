/**
 * The release's chat thread: found in the approvals table, or started (parent message posted
 * top-level, record created) by whichever step needs it first. The parent is redrawn from the stored
 * state and updated in place on every event.
 */

import type { Config } from '../../config/schema.js';
import { tagLocation, UnknownTagLocationError } from '../../config/tag-location.js';
import type { Notification, Release } from '../../contracts/tasks.js';
import {
  applyNotification,
  type CommitLink,
  type DecisionView,
  newThreadState,
  type ThreadState,
} from '../../domain/release-thread.js';
import { gitopsCommitUrl } from '../../domain/repo-url.js';
import type { ApprovalsStore, ThreadRecord } from '../../ports/approvals-store.js';
import type { Chat, ThreadView } from '../../ports/chat.js';

/** How long a thread record is kept: longer than any run (Standard workflows run up to a year). */
export const THREAD_RETENTION_SECONDS = 400 * 86_400;

export interface ThreadDeps {
  readonly store: ApprovalsStore;
  readonly chat: Chat;
  /** `slack.channel` from the config. */
  readonly channel: string;
  /** The configured stage names, in order. */
  readonly stageOrder: readonly string[];
  readonly commitUrl: CommitLink;
  readonly now: () => Date;
}

/**
 * The thread settings a config gives: channel, stage order, and commit links into the repository each
 * stage's commit for the app went to (config/tag-location.ts), not always `gitops.repository`.
 */
export function threadSettings(config: Config): Pick<ThreadDeps, 'channel' | 'stageOrder' | 'commitUrl'> {
  const { apiUrl } = config.gitops.github;
  return {
    channel: config.slack.channel,
    stageOrder: config.stages.map((stage) => stage.name),
    commitUrl: (sha, { app, stage }) => {
      let repository: string;
      try {
        repository = tagLocation(config, app, stage).repository;
      } catch (error) {
        // A stage or app the config no longer has (a thread from before a change): no link beats a wrong one.
        if (error instanceof UnknownTagLocationError) return undefined;
        throw error;
      }
      return gitopsCommitUrl(apiUrl, repository, sha);
    },
  };
}

/** The thread as the chat draws it. */
export function threadView(
  state: ThreadState,
  deps: Pick<ThreadDeps, 'stageOrder' | 'commitUrl'>,
): ThreadView {
  return { state, stageOrder: deps.stageOrder, commitUrl: deps.commitUrl };
}

/** The run's thread; posts the parent message and records it when there is none yet. */
export async function ensureThread(
  execution: string,
  release: Release,
  deps: ThreadDeps,
): Promise<ThreadRecord> {
  const existing = await deps.store.getThread(execution);
  if (existing) return existing;
  const now = deps.now();
  const state = newThreadState(execution, release, now);
  const posted = await deps.chat.postThread({ channel: deps.channel, view: threadView(state, deps) });
  return deps.store.createThread(
    { execution, channel: posted.channel, ts: posted.ts, state },
    Math.floor(now.getTime() / 1000) + THREAD_RETENTION_SECONDS,
  );
}

/** Applies an event to the thread's state, stores it and updates the parent message in place. */
export async function advanceThread(
  thread: ThreadRecord,
  notification: Notification,
  deps: ThreadDeps,
  decision?: DecisionView,
): Promise<ThreadRecord> {
  const state = applyNotification(thread.state, notification, deps.stageOrder, deps.now(), decision);
  await deps.store.saveThreadState(thread.execution, state);
  await deps.chat.updateThread({ channel: thread.channel, ts: thread.ts, view: threadView(state, deps) });
  return { ...thread, state };
}
