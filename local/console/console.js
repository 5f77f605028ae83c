// The sandbox console: plain JavaScript, no build step. It polls the sandbox server's JSON API and
// renders the runs like the Step Functions console, the Slack channel with working buttons, the
// GitOps repository and the Argo CD applications. A button click is sent to the sandbox server,
// which signs it as Slack would and posts it to the interaction endpoint: the page never sees the
// signing secret. Every commit hash links to the sandbox's own commit view (/commits/<sha>), and
// every time is written in one format with its zone (time.js).

import { formatTime } from '/time.js';

const POLL_MS = 1000;

/** The run named by the address's `#<execution>`; a malformed escape (`#%`) names none, never throws. */
function hashRun() {
  try {
    return decodeURIComponent(location.hash.replace(/^#/, ''));
  } catch {
    return '';
  }
}

const ui = {
  selected: hashRun() || undefined,
  follow: !location.hash,
  open: new Set(),
  last: {},
  tags: {},
  clicking: false,
  /** How the stand-in's web URL of a commit begins; Slack links starting so open the commit view. */
  commitUrlPrefix: undefined,
  stageCommitUrlPrefixes: undefined,
  /** The sandbox that answered last (its start time): another one means a restart. */
  startedAt: undefined,
  stopped: false,
};

/** Creates an element: h('td', { class: 'x', onclick }, child, 'text'). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'html') el.innerHTML = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path, init) {
  const response = await fetch(path, {
    ...init,
    headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) },
  });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text };
  }
  if (!response.ok) throw Object.assign(new Error(body.message || `HTTP ${response.status}`), { body });
  return body;
}

// ---- formatting -------------------------------------------------------------------------------

function elapsed(ms) {
  if (ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A time in the console's one format, as a <time> element that keeps the exact instant. */
const clock = (value) => {
  const text = formatTime(value);
  if (!text) return '';
  return h('time', { datetime: new Date(value).toISOString() }, text);
};
const short = (sha) => (sha ? sha.slice(0, 7) : '');
/** Where the console shows a commit: its message, author and diff, served by the sandbox. */
const commitHref = (sha) => `/commits/${encodeURIComponent(sha)}`;
/** A commit hash that opens the commit view. */
const commitLink = (sha) =>
  sha
    ? h(
        'a',
        { class: 'sha mono', href: commitHref(sha), title: `commit ${sha}`, 'data-commit': sha },
        short(sha),
      )
    : '';
/**
 * A stage's commit for an app: the commit view when it is in the repository the sandbox serves, else
 * a link to the repository config/tag-location.ts puts that stage's commits in (another repository).
 */
const stageCommitLink = (sha, app, stage) => {
  const prefix = ui.stageCommitUrlPrefixes?.[app]?.[stage];
  if (!sha || !prefix || prefix === ui.commitUrlPrefix) return commitLink(sha);
  return h(
    'a',
    { class: 'sha mono', href: `${prefix}${sha}`, target: '_blank', rel: 'noopener', title: `commit ${sha}` },
    short(sha),
  );
};
const json = (value) => (value === undefined ? '—' : JSON.stringify(value, null, 2));
const badge = (text, kind = text) => h('span', { class: `badge ${kind}` }, text);

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Slack text writes `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;`; Slack shows them as the characters.
 * Runs on HTML-escaped text after the control sequences were turned into markup, in one pass, so a
 * decoded `<` is never read as the start of a link or mention.
 */
function slackEntities(html) {
  return html.replace(/&#38;(amp|lt|gt);/g, (_, name) => ({ amp: '&#38;', lt: '&#60;', gt: '&#62;' })[name]);
}

/** The emoji shortcodes Shiplane's messages use, as Slack shows them. */
const EMOJI = {
  fast_forward: '⏩',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  large_blue_circle: '🔵',
  large_green_circle: '🟢',
  leftwards_arrow_with_hook: '↩️',
  memo: '📝',
  no_entry: '⛔',
  raised_hand: '✋',
  red_circle: '🔴',
  repeat: '🔁',
  rewind: '⏪',
  rocket: '🚀',
  tada: '🎉',
  white_check_mark: '✅',
  white_circle: '⚪',
  warning: '⚠️',
  x: '❌',
  '+1': '👍',
};

/** Slack mrkdwn, the subset Shiplane's messages use: *bold*, _italic_, ~strike~, `code`, links, mentions. */
function mrkdwn(text, users) {
  // An emoji keeps its name for screen readers and as a tooltip; the words next to it carry the meaning.
  let out = escapeHtml(text).replace(/:([a-z0-9_+-]+):/g, (all, name) =>
    EMOJI[name]
      ? `<span class="emoji" role="img" aria-label="${name.replace(/_/g, ' ')}" title="${name.replace(/_/g, ' ')}">${EMOJI[name]}</span>`
      : all,
  );
  out = out.replace(/```([\s\S]*?)```/g, '<pre>$1</pre>');
  out = out.replace(/`([^`\n]+)`/g, '<code>$1</code>');
  out = out.replace(/&#60;(https?:[^|&]+?)\|(.+?)&#62;/g, (_, href, label) => link(href, label));
  out = out.replace(/&#60;(https?:[^&]+?)&#62;/g, (_, href) => link(href, href));
  out = out.replace(
    /&#60;@(U[A-Z0-9]+)&#62;/g,
    (_, id) => `<strong>@${escapeHtml(users[id] || id)}</strong>`,
  );
  out = out.replace(
    /&#60;!subteam\^(S[A-Z0-9]+)(?:\|([^&]+))?&#62;/g,
    (_, id, name) => `<strong>@${name || id}</strong>`,
  );
  out = out.replace(
    /&#60;#(C[A-Z0-9]+)(?:\|([^&]+))?&#62;/g,
    (_, id, name) => `<strong>#${name || id}</strong>`,
  );
  out = out.replace(/&#60;!date\^(\d+)\^[^|]*\|([^&]+)&#62;/g, (_, epoch) =>
    escapeHtml(formatTime(Number(epoch) * 1000)),
  );
  out = out.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/gm, '$1<strong>$2</strong>');
  out = out.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/gm, '$1<em>$2</em>');
  out = out.replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/gm, '$1<del>$2</del>');
  return slackEntities(out);
}

/**
 * A link in a Slack message. A commit of the GitOps repository opens the sandbox's commit view: the
 * GitHub stand-in's web URL answers only API calls with a token. Others open in a new tab.
 */
function link(href, label) {
  const prefix = ui.commitUrlPrefix ? escapeHtml(ui.commitUrlPrefix) : undefined;
  if (prefix && href.startsWith(prefix) && /^[0-9a-f]{7,40}$/.test(href.slice(prefix.length))) {
    const sha = href.slice(prefix.length);
    return `<a class="sha" href="${commitHref(sha)}" data-commit="${sha}">${label}</a>`;
  }
  return `<a href="${href}" target="_blank" rel="noopener">${label}</a>`;
}

const textOf = (obj, users) =>
  obj ? (obj.type === 'mrkdwn' ? mrkdwn(obj.text, users) : slackEntities(escapeHtml(obj.text ?? ''))) : '';

// ---- executions -------------------------------------------------------------------------------

function renderExecutions(runs) {
  const body = document.querySelector('#executions tbody');
  body.replaceChildren();
  if (runs.length === 0) {
    body.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No executions yet.')));
    return;
  }
  if (ui.follow || !ui.selected || !runs.some((run) => run.name === ui.selected)) {
    if (ui.follow || !ui.selected) ui.selected = runs[0].name;
  }
  for (const run of runs) {
    const took = run.startDate
      ? elapsed((run.stopDate ? Date.parse(run.stopDate) : Date.now()) - Date.parse(run.startDate))
      : '';
    body.append(
      h(
        'tr',
        {
          class: run.name === ui.selected ? 'selected' : '',
          'data-execution': run.name,
          onclick: () => {
            ui.selected = run.name;
            ui.follow = false;
            history.replaceState(null, '', `#${encodeURIComponent(run.name)}`);
            ui.last.execution = undefined;
            refresh();
          },
        },
        h('td', { class: 'mono' }, run.name),
        h(
          'td',
          {},
          badge(run.status),
          run.outcome === 'rejected' ||
            run.outcome === 'expired' ||
            run.outcome === 'superseded' ||
            run.outcome === 'rolled-back'
            ? [' ', badge(run.outcome)]
            : null,
        ),
        h('td', {}, `${run.app ?? ''} ${run.tag ?? ''}`),
        h('td', {}, clock(run.startDate)),
        h('td', {}, took),
      ),
    );
  }
}

/** Folds the Argo CD poll loop: a state run several times shows once, with the count. */
function foldSteps(steps) {
  const rows = [];
  for (const [index, step] of steps.entries()) {
    const row = rows.find((r) => r.name === step.name);
    if (row) {
      row.runs.push({ ...step, index });
      row.status = step.status;
      row.exitedAt = step.exitedAt;
      continue;
    }
    rows.push({ ...step, runs: [{ ...step, index }] });
  }
  return rows;
}

/** A step's status in words: the dot's colour repeats it, never replaces it. */
const STEP_STATUS = {
  succeeded: 'succeeded',
  failed: 'failed',
  caught: 'failed, caught',
  running: 'running',
};

function renderStep(row, start, executionName) {
  const key = `${executionName}|${row.name}`;
  const last = row.runs[row.runs.length - 1];
  const took =
    row.exitedAt || row.status === 'running'
      ? elapsed((row.exitedAt ? Date.parse(row.exitedAt) : Date.now()) - Date.parse(row.enteredAt))
      : '';
  const details = h(
    'details',
    {
      open: ui.open.has(key),
      ontoggle: (event) => (event.target.open ? ui.open.add(key) : ui.open.delete(key)),
    },
    h(
      'summary',
      {},
      h('span', { class: 'dot', 'aria-hidden': 'true' }),
      h(
        'span',
        { class: 'state-name' },
        row.name,
        row.runs.length > 1 ? h('span', { class: 'times' }, `×${row.runs.length}`) : null,
      ),
      h('span', { class: 'step-status' }, STEP_STATUS[row.status] ?? row.status),
      h('span', { class: 'type' }, row.type),
      h(
        'span',
        { class: 'time', title: formatTime(row.enteredAt) },
        `+${elapsed(Date.parse(row.enteredAt) - start)}`,
      ),
      h('span', { class: 'took' }, took),
    ),
    h(
      'div',
      { class: 'io' },
      last.error
        ? h('div', { class: 'step-error' }, h('strong', {}, last.error.error), ': ', last.error.cause)
        : null,
      h(
        'div',
        {},
        h('h4', {}, row.runs.length > 1 ? 'Input (last)' : 'Input'),
        h('pre', {}, json(last.input)),
      ),
      h(
        'div',
        {},
        h('h4', {}, row.runs.length > 1 ? 'Output (last)' : 'Output'),
        h('pre', {}, json(last.output)),
      ),
    ),
  );
  return h('li', { class: `step ${row.status}`, 'data-state': row.name, 'data-status': row.status }, details);
}

function renderStage(stage, users, app) {
  const items = [];
  if (stage.commit) {
    items.push([
      'commit',
      [
        stageCommitLink(stage.commit, app, stage.name),
        ` (${stage.commitStatus ?? ''}${stage.previousTag ? `, was ${stage.previousTag}` : ''})`,
      ],
    ]);
  }
  if (stage.health)
    items.push(['Argo CD', `${stage.health}${stage.healthMessage ? ` — ${stage.healthMessage}` : ''}`]);
  if (stage.rollback) {
    const { rollback } = stage;
    items.push([
      'rollback',
      [
        `to ${rollback.tag ?? '?'}`,
        rollback.commit
          ? [' at ', stageCommitLink(rollback.commit, app, stage.name), ` (${rollback.commitStatus ?? ''})`]
          : null,
        rollback.health
          ? ` — ${rollback.health}${rollback.healthMessage ? `: ${rollback.healthMessage}` : ''}`
          : '',
      ],
    ]);
  }
  if (stage.approval) {
    const who = stage.approval.byName || users[stage.approval.by] || stage.approval.by || '';
    items.push([
      stage.approval.decision,
      [who, stage.approval.at ? [' at ', clock(stage.approval.at)] : null],
    ]);
    if (stage.approval.reason) items.push(['reason', stage.approval.reason]);
  }
  return h(
    'div',
    { class: 'stage', 'data-stage': stage.name },
    h('div', { class: 'title' }, stage.name),
    items.length === 0
      ? h('div', { class: 'muted' }, 'not reached')
      : h(
          'dl',
          {},
          items.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
  );
}

/** Text with `commands` in backticks, the commands as code. */
function withCode(text) {
  return String(text)
    .split(/`([^`]+)`/)
    .map((part, index) => (index % 2 === 1 ? h('code', {}, part) : part));
}

/**
 * What to do after a run that did not deploy (the advice `shiplane show` and the Slack thread give),
 * with a button for the command it names when the console can run it: retry, or a manual rollback
 * (which still goes through the stage's approval and the Argo CD wait).
 */
function renderNextStep(name, step) {
  const result = h('span', { class: 'muted', 'data-testid': 'next-step-result' });
  const start = (label, path, body) => async (event) => {
    event.target.disabled = true;
    result.textContent = 'starting…';
    try {
      const answer = await api(path, { method: 'POST', body: JSON.stringify(body) });
      result.textContent = `started ${answer.execution}`;
      ui.selected = answer.execution;
      ui.follow = true;
    } catch (error) {
      result.textContent = `${label} refused: ${error.message}`;
      event.target.disabled = false;
    }
    refresh();
  };
  const rollback = /^shiplane rollback ([^\s<>]+) --stage ([^\s<>]+)$/.exec(step.command ?? '');
  const action = step.command?.startsWith('shiplane retry ')
    ? h(
        'button',
        {
          type: 'button',
          'data-testid': 'retry',
          onclick: start('retry', `/api/executions/${encodeURIComponent(name)}/retry`, {}),
        },
        'Retry',
      )
    : rollback
      ? h(
          'button',
          {
            type: 'button',
            'data-testid': 'rollback',
            onclick: start('rollback', '/api/rollback', {
              app: rollback[1],
              stage: rollback[2],
              reason: `after ${name}, from the sandbox console`,
            }),
          },
          `Roll back ${rollback[2]}`,
        )
      : null;
  return h(
    'div',
    { class: 'next-step', 'data-testid': 'next-step' },
    h('strong', {}, 'Next: '),
    withCode(`${step.summary} ${step.advice}`),
    action ? [' ', action, ' ', result] : null,
  );
}

function renderExecution(detail, users) {
  const root = document.getElementById('execution');
  root.replaceChildren();
  if (!detail) return;
  const { summary, timeline } = detail;
  const start = Date.parse(detail.startDate);
  const took = elapsed((detail.stopDate ? Date.parse(detail.stopDate) : Date.now()) - start);
  root.append(
    h(
      'div',
      { class: 'banner' },
      h('span', { class: 'name mono' }, detail.name),
      h('span', { 'data-testid': 'run-status' }, badge(detail.status)),
      summary.outcome ? h('span', { 'data-testid': 'run-outcome' }, badge(summary.outcome)) : null,
      h('span', {}, `${summary.app ?? ''} ${summary.tag ?? ''}`),
      h('span', { class: 'muted' }, 'started ', clock(detail.startDate), ` · ${took}`),
      h(
        'span',
        { class: 'muted', 'data-testid': 'current-state' },
        detail.status === 'RUNNING'
          ? `in ${summary.currentState ?? '…'}`
          : `ended in ${summary.currentState ?? ''}`,
      ),
    ),
  );
  // A run waiting out a change freeze (summarizeRun's `frozen`): the thread's line and the end.
  const frozen = summary.frozen;
  if (frozen) {
    root.append(
      h(
        'div',
        { class: 'muted', 'data-testid': 'run-frozen' },
        `${frozen.notice ?? `${frozen.stage} frozen`} · waits until `,
        clock(frozen.until),
      ),
    );
  }
  const error = timeline.error;
  if (error) root.append(h('div', { class: 'error' }, h('strong', {}, error.error), ': ', error.cause));
  if (detail.nextStep) root.append(renderNextStep(detail.name, detail.nextStep));
  if (summary.stages.length > 0) {
    root.append(
      h(
        'div',
        { class: 'stages' },
        summary.stages.map((stage) => renderStage(stage, users, summary.app)),
      ),
    );
  }
  root.append(h('h3', {}, 'State timeline'));
  root.append(
    h(
      'ol',
      { class: 'steps', 'data-testid': 'timeline' },
      foldSteps(timeline.steps).map((row) => renderStep(row, start, detail.name)),
    ),
  );
}

// ---- Slack ------------------------------------------------------------------------------------

function renderBlock(block, message, users) {
  switch (block.type) {
    case 'header':
      return h('div', { class: 'block header', html: textOf(block.text, users) });
    case 'divider':
      return h('hr', { class: 'block divider' });
    case 'context':
      return h(
        'div',
        { class: 'block context' },
        (block.elements ?? []).map((el) =>
          el.type === 'image' ? null : h('span', { html: `${textOf(el, users)} ` }),
        ),
      );
    case 'actions':
      return h(
        'div',
        { class: 'actions' },
        (block.elements ?? []).filter((el) => el.type === 'button').map((el) => button(el, message)),
      );
    case 'section':
      return h(
        'div',
        { class: 'block section' },
        block.text ? h('div', { html: textOf(block.text, users) }) : null,
        block.fields
          ? h(
              'div',
              { class: 'fields' },
              block.fields.map((f) => h('div', { html: textOf(f, users) })),
            )
          : null,
        block.accessory?.type === 'button'
          ? h('div', { class: 'actions' }, button(block.accessory, message))
          : null,
      );
    default:
      return block.text ? h('div', { class: 'block', html: textOf(block.text, users) }) : null;
  }
}

function button(element, message) {
  return h(
    'button',
    {
      class: `slack-button ${element.style ?? ''}`,
      type: 'button',
      'data-action': element.action_id,
      onclick: () => click(message, element),
    },
    element.text?.text ?? element.action_id,
  );
}

function renderMessage(message, users) {
  const name =
    message.username || (message.botId ? 'Shiplane' : users[message.user] || message.user || 'someone');
  const when = message.ts ? clock(Number(message.ts.split('.')[0]) * 1000) : '';
  const blocks = message.blocks?.length
    ? message.blocks.map((block) => renderBlock(block, message, users))
    : [h('div', { class: 'text', html: mrkdwn(message.text ?? '', users) })];
  const replies = message.replies ?? [];
  return h(
    'div',
    { class: `msg${message.ephemeral ? ' ephemeral' : ''}`, 'data-ts': message.ts },
    h('div', { class: 'avatar' }, name.slice(0, 1).toUpperCase()),
    h(
      'div',
      {},
      h(
        'div',
        {},
        h('span', { class: 'who' }, name),
        h('span', { class: 'when' }, when),
        message.edited ? h('span', { class: 'edited' }, '(edited)') : null,
      ),
      message.ephemeral
        ? h(
            'div',
            { class: 'ephemeral-note' },
            `Only visible to ${users[message.ephemeral.user] ?? message.ephemeral.user}`,
          )
        : null,
      blocks,
      replies.length > 0
        ? h(
            'details',
            {
              class: 'thread',
              open: ui.open.has(`thread|${message.ts}`) || !ui.open.has(`thread-closed|${message.ts}`),
              ontoggle: (event) => {
                ui.open.delete(event.target.open ? `thread-closed|${message.ts}` : `thread|${message.ts}`);
                ui.open.add(event.target.open ? `thread|${message.ts}` : `thread-closed|${message.ts}`);
              },
            },
            h('summary', {}, `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`),
            replies.map((reply) => renderMessage(reply, users)),
          )
        : null,
    ),
  );
}

function renderSlack(slack, sandbox) {
  const root = document.getElementById('slack-messages');
  const users = Object.fromEntries((sandbox.users ?? []).map((u) => [u.id, u.name]));
  const keepBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 40;
  root.replaceChildren();
  if (slack.messages.length === 0) root.append(h('div', { class: 'empty' }, 'No messages yet.'));
  for (const message of slack.messages) root.append(renderMessage(message, users));
  if (keepBottom) root.scrollTop = root.scrollHeight;
}

async function click(message, element) {
  if (ui.clicking) return;
  ui.clicking = true;
  for (const b of document.querySelectorAll('.slack-button')) b.disabled = true;
  const result = document.getElementById('click-result');
  const user = document.getElementById('slack-user').value;
  result.textContent = `${element.text?.text ?? element.action_id}: sending a signed block_actions request…`;
  try {
    const answer = await api('/api/slack/click', {
      method: 'POST',
      body: JSON.stringify({ ts: message.ts, actionId: element.action_id, value: element.value, user }),
    });
    result.textContent = `${element.text?.text ?? element.action_id}: the interaction endpoint answered HTTP ${answer.status}${
      answer.text ? ` — ${answer.text}` : ''
    }`;
    if (answer.view) playModal(answer.view, user, result);
  } catch (error) {
    result.textContent = `click failed: ${error.message}`;
  } finally {
    ui.clicking = false;
    ui.last.slack = undefined;
    refresh();
  }
}

/**
 * A modal the app opened with views.open (Reject asks for the reason), drawn as a dialog. Its
 * submission goes back through the sandbox as a signed view_submission; errors the app answers
 * keep it open, as Slack does.
 */
function playModal(view, user, result) {
  const fields = view.inputs.map((input) => {
    const attributes = {
      id: `modal-${input.actionId}`,
      'data-testid': 'slack-modal-input',
      'data-action-id': input.actionId,
      placeholder: input.placeholder,
      ...(input.maxLength ? { maxlength: String(input.maxLength) } : {}),
    };
    const control = input.multiline ? h('textarea', { rows: '4', ...attributes }) : h('input', attributes);
    const error = h('div', { class: 'modal-error', 'data-testid': 'slack-modal-error', role: 'alert' });
    return { input, control, error };
  });
  const dialog = h('dialog', {
    class: 'slack-modal',
    'data-testid': 'slack-modal',
    'aria-label': view.title,
  });
  const form = h('form', { method: 'dialog' });
  const status = h('div', { class: 'modal-status' });
  const submit = h(
    'button',
    { type: 'submit', class: 'slack-button danger', 'data-testid': 'slack-modal-submit' },
    view.submit,
  );
  const cancel = h(
    'button',
    { type: 'button', class: 'slack-button', onclick: () => dialog.close() },
    view.close,
  );
  form.append(
    h('h3', {}, view.title),
    h('p', { class: 'modal-text', html: mrkdwn(view.text, {}) }),
    ...fields.flatMap(({ input, control, error }) => [
      h('label', { for: control.id }, input.label),
      control,
      error,
    ]),
    status,
    h('div', { class: 'modal-buttons' }, cancel, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    status.textContent = 'sending a signed view_submission…';
    for (const f of fields) f.error.textContent = '';
    try {
      const answer = await api('/api/slack/view', {
        method: 'POST',
        body: JSON.stringify({
          viewId: view.id,
          user,
          inputs: Object.fromEntries(fields.map((f) => [f.input.actionId, f.control.value])),
        }),
      });
      if (answer.closed) {
        dialog.close();
        result.textContent = `${view.title}: submitted, the interaction endpoint answered HTTP ${answer.status}`;
        ui.last.slack = undefined;
        refresh();
        return;
      }
      status.textContent = '';
      for (const f of fields) f.error.textContent = answer.errors?.[f.input.blockId] ?? '';
    } catch (error) {
      status.textContent = `submit failed: ${error.message}`;
    } finally {
      submit.disabled = false;
    }
  });
  dialog.append(form);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  fields[0]?.control.focus();
}

// ---- GitOps repository and Argo CD ------------------------------------------------------------

function renderRepo(repo, sandbox) {
  document
    .getElementById('repo-name')
    .replaceChildren(`${sandbox.repository} · ${repo.branch} @ `, commitLink(repo.head));
  const apps = sandbox.apps;
  const table = document.getElementById('tags');
  table.replaceChildren(
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'environment'),
        apps.map((app) => h('th', {}, app)),
      ),
    ),
    h(
      'tbody',
      {},
      Object.entries(repo.tags).map(([env, tags]) =>
        h(
          'tr',
          {},
          h('td', {}, env),
          apps.map((app) => {
            const key = `${env}/${app}`;
            const changed = ui.tags[key] !== undefined && ui.tags[key] !== tags[app];
            ui.tags[key] = tags[app];
            return h(
              'td',
              { class: `tag${changed ? ' changed' : ''}`, 'data-testid': `tag-${env}-${app}` },
              tags[app] ?? '—',
            );
          }),
        ),
      ),
    ),
  );
  document
    .getElementById('repo-log')
    .replaceChildren(
      ...repo.log.map((commit) =>
        h(
          'li',
          { 'data-sha': commit.sha },
          commitLink(commit.sha),
          h('span', { title: commit.body }, commit.subject),
          h('span', { class: 'muted' }, clock(commit.date)),
          h('span', { class: 'files' }, commit.files.join(', ')),
        ),
      ),
    );
}

function renderArgo(argocd) {
  const body = document.querySelector('#argocd-apps tbody');
  body.replaceChildren(
    ...argocd.apps.map((app) =>
      h(
        'tr',
        { 'data-app': app.name },
        h('td', {}, app.name),
        h(
          'td',
          {},
          badge(app.syncStatus),
          app.operationPhase === 'Running' ? h('span', { class: 'muted' }, ' syncing…') : null,
        ),
        h('td', {}, badge(app.healthStatus), app.message ? h('div', { class: 'muted' }, app.message) : null),
        h('td', {}, commitLink(app.revision)),
        h('td', { class: 'mono' }, (app.images ?? []).join(', ')),
      ),
    ),
  );
}

// ---- alerts ----------------------------------------------------------------------------------

/** An alert's text, its commit shas opening the commit view and its execution selecting the run. */
function alertText(message) {
  return String(message)
    .split(/\b([0-9a-f]{40})\b|^(Execution: )(\S+)$/m)
    .reduce((parts, part, index) => {
      if (part === undefined) return parts;
      const slot = index % 4;
      if (slot === 1) parts.push(commitLink(part));
      else if (slot === 3) parts.push(h('a', { href: `#${encodeURIComponent(part)}` }, part));
      else if (slot === 2 || slot === 0) parts.push(part);
      return parts;
    }, []);
}

/** What the SNS alert topic got: what an on-call subscription would receive, newest first. */
function renderAlerts(alerts) {
  const root = document.getElementById('alerts');
  document.getElementById('alert-count').textContent = alerts.length === 0 ? 'none' : `${alerts.length}`;
  root.replaceChildren(
    ...(alerts.length === 0
      ? [
          h(
            'li',
            { class: 'empty' },
            'No alerts. Failures, degraded rollouts and expired approvals send one.',
          ),
        ]
      : [...alerts]
          .reverse()
          .map((alert) =>
            h(
              'li',
              { class: 'alert' },
              h(
                'div',
                {},
                h('strong', {}, alert.subject),
                ' ',
                h('span', { class: 'muted' }, clock(alert.at)),
              ),
              h('pre', {}, alertText(alert.message)),
            ),
          )),
  );
}

// ---- delivery metrics -------------------------------------------------------------------------

// The delivery report of `shiplane metrics` (GET /api/metrics), per app and stage: each figure
// beside its target, and the window's days as a small SVG chart with a text fallback. Fetched when
// the window changes, when a run ends (its record is sealed then) and every METRICS_MS as the window
// moves on.

const METRICS_MS = 15_000;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** The four keys, then the operational figures; approval wait stays in `shiplane metrics`. */
const METRIC_FIGURES = [
  ['deploymentFrequency', 'Deployment frequency'],
  ['leadTime', 'Lead time'],
  ['changeFailureRate', 'Change failure rate'],
  ['timeToRestore', 'Time to restore'],
  ['syncSuccessRate', 'Sync success'],
  ['rollbackSuccessRate', 'Rollback success'],
];

/** As `shiplane metrics` writes a status. */
const METRIC_STATUS = { met: 'met', missed: 'MISSED', 'no-data': 'no data', 'no-target': 'no target' };

const metrics = { key: undefined, fetchedAt: 0, loading: false };

/** `1h30m`, `45s`: the CLI's duration format. */
function duration(seconds) {
  let rest = Math.round(seconds);
  if (rest <= 0) return '0s';
  const parts = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ]) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}

function figureValue(figure) {
  if (figure.value === null || figure.value === undefined) return '—';
  if (figure.unit === 'ratio') return `${(figure.value * 100).toFixed(1).replace(/\.0$/, '')}%`;
  if (figure.unit === 'per-day') return `${figure.value.toFixed(2).replace(/\.?0+$/, '')} a day`;
  return duration(figure.value);
}

const DAY_FORMAT = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short' });
/** A day of the window by the date it ends on (the last one ends now). */
const dayLabel = (day) => DAY_FORMAT.format(new Date(Date.parse(day.end) - 1));
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children)
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/**
 * The daily chart: per day a deployments bar and a failures bar, on one scale. Zero days (a report
 * without them) say so; a day with nothing draws no bar height but keeps its slot.
 */
function dailyChart(figures, id) {
  const days = figures.daily ?? [];
  const where = `${figures.app} · ${figures.stage}`;
  if (days.length === 0) {
    return h(
      'div',
      { class: 'empty', 'data-testid': 'metrics-chart-empty' },
      'No daily counts in this report.',
    );
  }
  const deployments = days.reduce((n, d) => n + d.deployments, 0);
  const failures = days.reduce((n, d) => n + d.failures, 0);
  const changes = days.reduce((n, d) => n + d.changes, 0);
  const top = Math.max(1, ...days.map((d) => Math.max(d.deployments, d.failures)));
  const [width, height, bottom, left] = [480, 96, 16, 18];
  const plot = height - bottom - 4;
  const slot = (width - left) / days.length;
  const bar = Math.max(1, Math.min(14, slot * 0.38));
  const y = (n) => height - bottom - (n / top) * plot;
  const title = `${where}: deployments and failures a day, ${plural(days.length, 'day')}`;
  const summary =
    deployments + changes === 0
      ? `No deployments or changes in ${plural(days.length, 'day')}.`
      : `${plural(deployments, 'deployment')}, ${failures} of ${plural(changes, 'change')} failed, from ${dayLabel(days[0])} to ${dayLabel(days.at(-1))}.`;
  const bars = days.map((day, index) => {
    const x = left + index * slot + slot / 2;
    const text = `${dayLabel(day)}: ${plural(day.deployments, 'deployment')}, ${day.failures} of ${plural(day.changes, 'change')} failed`;
    return svg(
      'g',
      { class: 'day', 'data-day': day.end },
      svg('title', {}, text),
      svg('rect', {
        class: 'bar deployments',
        'data-count': day.deployments,
        x: (x - bar - 0.5).toFixed(2),
        y: y(day.deployments).toFixed(2),
        width: bar.toFixed(2),
        height: (height - bottom - y(day.deployments)).toFixed(2),
      }),
      svg('rect', {
        class: 'bar failures',
        'data-count': day.failures,
        x: (x + 0.5).toFixed(2),
        y: y(day.failures).toFixed(2),
        width: bar.toFixed(2),
        height: (height - bottom - y(day.failures)).toFixed(2),
      }),
    );
  });
  const chart = svg(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      'data-testid': 'metrics-chart',
    },
    svg('title', { id: `${id}-title` }, title),
    svg('desc', { id: `${id}-desc` }, summary),
    svg('line', { class: 'axis', x1: left, x2: width, y1: height - bottom, y2: height - bottom }),
    svg('text', { class: 'tick', x: left - 4, y: y(top) + 4, 'text-anchor': 'end' }, top),
    svg('text', { class: 'tick', x: left - 4, y: height - bottom, 'text-anchor': 'end' }, 0),
    svg('text', { class: 'tick', x: left, y: height - 3 }, dayLabel(days[0])),
    days.length > 1
      ? svg('text', { class: 'tick', x: width, y: height - 3, 'text-anchor': 'end' }, dayLabel(days.at(-1)))
      : null,
    ...bars,
  );
  const openKey = `metrics-days|${figures.app}|${figures.stage}`;
  return h(
    'figure',
    { class: 'metrics-chart' },
    chart,
    h(
      'figcaption',
      {},
      h('span', { class: 'swatch deployments', 'aria-hidden': 'true' }),
      ' deployments ',
      h('span', { class: 'swatch failures', 'aria-hidden': 'true' }),
      ' failed changes',
    ),
    // The same numbers as text: for screen readers, copying, and browsers without SVG.
    h(
      'details',
      {
        class: 'chart-text',
        open: ui.open.has(openKey),
        ontoggle: (event) => (event.target.open ? ui.open.add(openKey) : ui.open.delete(openKey)),
      },
      h('summary', { class: 'chart-summary' }, 'Day by day'),
      h(
        'table',
        { class: 'table', 'data-testid': 'metrics-days' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, 'day'), h('th', {}, 'deployments'), h('th', {}, 'failed changes')),
        ),
        h(
          'tbody',
          {},
          days.map((day) =>
            h(
              'tr',
              { 'data-day': day.end },
              h('td', {}, dayLabel(day)),
              h('td', {}, day.deployments),
              h('td', {}, `${day.failures} of ${day.changes}`),
            ),
          ),
        ),
      ),
    ),
  );
}

function metricsCard(figures, index) {
  const stage = `${figures.app} · ${figures.stage}`;
  return h(
    'article',
    {
      class: `metrics-card${figures.production ? ' production' : ''}`,
      'data-app': figures.app,
      'data-stage': figures.stage,
      'data-testid': `metrics-${figures.app}-${figures.stage}`,
      'aria-label': `${stage} delivery metrics`,
    },
    h('h3', {}, stage, figures.production ? h('span', { class: 'muted' }, ' (production)') : null),
    h(
      'table',
      { class: 'table figures' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'figure'),
          h('th', {}, 'value'),
          h('th', {}, 'target'),
          h('th', {}, 'status'),
        ),
      ),
      h(
        'tbody',
        {},
        METRIC_FIGURES.filter(([key]) => figures[key]).map(([key, label]) => {
          const figure = figures[key];
          return h(
            'tr',
            { 'data-figure': key, 'data-status': figure.status },
            h('td', {}, label, h('div', { class: 'muted detail' }, figure.detail)),
            h('td', { class: 'value' }, figureValue(figure)),
            h('td', { class: 'target' }, figure.target ? figure.target.text : '—'),
            h('td', {}, h('span', { class: `badge metric-${figure.status}` }, METRIC_STATUS[figure.status])),
          );
        }),
      ),
    ),
    dailyChart(figures, `metrics-chart-${index}`),
  );
}

function renderMetrics(report) {
  const root = document.getElementById('metrics-body');
  if (report.figures.length === 0) {
    root.replaceChildren(h('div', { class: 'empty' }, 'No apps to report.'));
  } else {
    // A row per app, a column per stage: each app's stages side by side, never merged.
    root.style.setProperty('--metrics-stages', String(new Set(report.figures.map((f) => f.stage)).size));
    root.replaceChildren(...report.figures.map((figures, index) => metricsCard(figures, index)));
  }
}

/** What the figures count: the window and when it ends. */
function renderMetricsNote(report) {
  document
    .getElementById('metrics-note')
    .replaceChildren(
      `${+report.days.toFixed(2)} ${report.days === 1 ? 'day' : 'days'} ending `,
      clock(report.until),
      ' · counted from the run records of runs that ended',
    );
}

/** Asks for the report when the window changed, a run ended, or it is METRICS_MS old. */
async function refreshMetrics(runs, force = false) {
  const since = document.getElementById('metrics-window').value;
  const ended = runs
    .filter((run) => run.status !== 'RUNNING')
    .map((run) => `${run.name}:${run.status}`)
    .join(' ');
  const key = `${since}|${ended}`;
  if (metrics.loading) return;
  if (!force && key === metrics.key && Date.now() - metrics.fetchedAt < METRICS_MS) return;
  metrics.loading = true;
  try {
    const report = await api(`/api/metrics?since=${encodeURIComponent(since)}`);
    metrics.key = key;
    metrics.fetchedAt = Date.now();
    // The window's end moves with every answer: draw only when a count or a figure changed.
    if (
      changed('metrics', {
        since,
        figures: report.figures.map((f) => ({
          ...f,
          daily: f.daily?.map((d) => [d.deployments, d.changes, d.failures]),
        })),
      })
    ) {
      renderMetrics(report);
    }
    renderMetricsNote(report);
  } catch (error) {
    document.getElementById('metrics-note').textContent = `metrics unavailable: ${error.message}`;
  } finally {
    metrics.loading = false;
  }
}

// ---- push form and polling --------------------------------------------------------------------

function setupPushForm(sandbox) {
  const select = document.getElementById('push-app');
  if (select.options.length === 0) {
    for (const app of sandbox.apps) select.append(h('option', { value: app }, app));
  }
  const users = document.getElementById('slack-user');
  if (users.options.length === 0) {
    for (const user of sandbox.users ?? []) {
      users.append(h('option', { value: user.id }, `${user.name}${user.approver ? ' (approver)' : ''}`));
    }
  }
}

// A link to `#<execution>` (or the back button) selects that run.
window.addEventListener('hashchange', () => {
  const name = hashRun();
  if (!name || name === ui.selected) return;
  ui.selected = name;
  ui.follow = false;
  ui.last.execution = undefined;
  refresh();
});

document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('push-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const result = document.getElementById('push-result');
    result.textContent = 'pushing…';
    try {
      const answer = await api('/api/push', {
        method: 'POST',
        body: JSON.stringify({ app: form.get('app'), tag: form.get('tag') }),
      });
      result.textContent = answer.message;
      if (answer.execution) {
        ui.selected = answer.execution;
        ui.follow = true;
      }
    } catch (error) {
      result.textContent = `push failed: ${error.message}`;
    }
    refresh();
  });
  document.getElementById('metrics-window').addEventListener('change', () => {
    ui.last.metrics = undefined;
    refresh();
  });
  refresh();
  setInterval(refresh, POLL_MS);
});

/** Renders a section only when its data changed, so open details and scroll positions stay put. */
function changed(section, data) {
  const text = JSON.stringify(data);
  if (ui.last[section] === text) return false;
  ui.last[section] = text;
  return true;
}

/**
 * The sandbox is gone (stopped, or its process killed): say so and disable everything that would
 * send it something. The page keeps asking; when a sandbox answers again it comes back to life.
 */
function setStopped(stopped, reason) {
  const banner = document.getElementById('stopped');
  const connection = document.getElementById('connection');
  document.body.classList.toggle('stopped', stopped);
  for (const control of document.querySelectorAll('main button, main input, main select')) {
    control.disabled = stopped;
  }
  if (stopped) {
    connection.textContent = 'stopped';
    connection.classList.add('down');
    banner.hidden = false;
    banner.replaceChildren(
      h('strong', {}, 'The sandbox has stopped.'),
      ` Nothing here can be pushed, approved or retried. Start it again with `,
      h('code', {}, 'npm start'),
      '; this page reconnects by itself.',
      reason ? h('span', { class: 'muted' }, ` (${reason}, last answer ${formatTime(ui.lastAnswer)})`) : null,
    );
  } else {
    banner.hidden = true;
    connection.classList.remove('down');
  }
  ui.stopped = stopped;
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  const connection = document.getElementById('connection');
  try {
    let state;
    try {
      state = await api('/api/state');
    } catch (error) {
      // fetch rejects (TypeError) only when nothing answers: the server is gone.
      if (error instanceof TypeError) setStopped(true, 'no answer from the sandbox');
      else {
        connection.textContent = `sandbox error: ${error.message}`;
        connection.classList.add('down');
      }
      return;
    }
    const { sandbox } = state;
    if (ui.stopped || (ui.startedAt && ui.startedAt !== sandbox.startedAt)) {
      // Back, or a new sandbox on the same port: draw everything again.
      setStopped(false);
      ui.last = {};
    }
    ui.startedAt = sandbox.startedAt;
    ui.lastAnswer = Date.now();
    ui.commitUrlPrefix = sandbox.commitUrlPrefix;
    ui.stageCommitUrlPrefixes = sandbox.stageCommitUrlPrefixes;
    connection.replaceChildren('live · ', clock(ui.lastAnswer));
    connection.classList.remove('down');
    if (changed('facts', sandbox)) {
      document
        .getElementById('facts')
        .replaceChildren(
          h('span', {}, sandbox.repository),
          h('span', {}, `Slack #${sandbox.channelName}`),
          h('span', {}, `stages: ${sandbox.stages.join(' → ')}`),
          h('span', {}, `config: ${sandbox.configFile}`),
        );
      document.getElementById('channel-name').textContent = `# ${sandbox.channelName}`;
      setupPushForm(sandbox);
    }
    const users = Object.fromEntries((sandbox.users ?? []).map((u) => [u.id, u.name]));
    renderExecutions(state.runs);
    if (ui.selected) {
      const detail = await api(`/api/executions/${encodeURIComponent(ui.selected)}?history=false`).catch(
        () => undefined,
      );
      if (detail?.status === 'RUNNING' || changed('execution', detail)) renderExecution(detail, users);
    }
    if (!ui.clicking && changed('slack', state.slack)) renderSlack(state.slack, sandbox);
    if (changed('repo', state.repo)) renderRepo(state.repo, sandbox);
    if (changed('argocd', state.argocd)) renderArgo(state.argocd);
    if (changed('alerts', state.alerts)) renderAlerts(state.alerts ?? []);
    refreshMetrics(state.runs);
  } catch (error) {
    connection.textContent = `console error: ${error.message}`;
    connection.classList.add('down');
  } finally {
    refreshing = false;
  }
}
