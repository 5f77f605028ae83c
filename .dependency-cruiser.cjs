/**
 * The layering of the repository, checked by `npm run deps` (part of `npm test`). Inside shared/,
 * imports only point down this list (a folder may also import its own files):
 *
 *   wiring/        builds each handler's dependencies; may import anything in shared/, and only
 *                  functions/ and local/ (and tests) import it
 *   steps/         one module per state-machine task; ports, domain, contracts, config
 *   adapters/      implementations of the ports; ports, domain, contracts, config
 *   observability/ Powertools; ports (the reporter it implements)
 *   ports/         interfaces to the outside world; domain, contracts, config
 *   domain/        pure rules; contracts, config
 *   contracts/     wire schemas; config
 *   config/        the config file; nothing above it
 *   errors.ts      error kinds every layer throws (and contracts/zod.ts, the schema library)
 *
 * Outside shared/: functions/ use wiring, steps and contracts (and observability); local/ never
 * imports cli/; nothing imports test/ or bench/ except tests and benchmarks; no cycles anywhere.
 * Type-only imports count: a type is as much a dependency as a value.
 */

const path = require('node:path');

/**
 * Modules below every layer, which any layer may import: the error kinds, and the zod every schema
 * is written in (zod/mini with English messages; it lives in contracts/, the config uses it too).
 */
const BASE = ['^shared/errors\\.ts$', '^shared/contracts/zod\\.ts$'];

/** Everything in shared/ except the given layers and the base modules. */
const sharedExcept = (...layers) => ({
  path: '^shared/',
  pathNot: [`^shared/(${layers.join('|')})/`, ...BASE],
});

const layer = (name, comment, ...allowed) => ({
  name: `${name}-imports-downward`,
  severity: 'error',
  comment,
  from: { path: `^shared/${name}/` },
  to: sharedExcept(name, ...allowed),
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle ties modules together so neither can be understood, tested or bundled alone.',
      from: {},
      to: { circular: true },
    },
    layer(
      'steps',
      'Steps are written against ports: an adapter, the wiring or Powertools is passed in, never imported.',
      'ports',
      'domain',
      'contracts',
      'config',
    ),
    layer(
      'adapters',
      'Adapters implement ports; they never call a step or the wiring.',
      'ports',
      'domain',
      'contracts',
      'config',
    ),
    layer('observability', 'Observability implements the reporter port and nothing else.', 'ports'),
    layer('ports', 'Ports are interfaces over domain types.', 'domain', 'contracts', 'config'),
    layer('domain', 'Domain rules are pure: no ports, adapters or steps.', 'contracts', 'config'),
    layer('contracts', 'Wire schemas depend on the config at most.', 'config'),
    layer('config', 'The config file is the bottom layer.'),
    {
      name: 'errors-import-nothing',
      severity: 'error',
      comment: 'shared/errors.ts and contracts/zod.ts are below every layer.',
      from: { path: BASE },
      to: { path: '^shared/' },
    },
    {
      name: 'shared-stays-inside',
      severity: 'error',
      comment: 'shared/ is what the handlers are made of; it never reaches into the programs around it.',
      from: { path: '^shared/' },
      to: { path: '^(functions|local|cli|infra|test|bench)/' },
    },
    {
      name: 'only-programs-use-wiring',
      severity: 'error',
      comment:
        'The wiring builds deployed (or local) dependencies; only the programs that run them, the ' +
        'handlers and the local runtime, use it (and tests and benchmarks).',
      from: { pathNot: '^(functions|local|shared/wiring|test|bench)/' },
      to: { path: '^shared/wiring/' },
    },
    {
      name: 'functions-use-wiring-steps-contracts',
      severity: 'error',
      comment:
        'A handler parses its input, runs one step with dependencies from shared/wiring, and answers; ' +
        'adapters, ports and domain rules reach it through those.',
      from: { path: '^functions/' },
      to: {
        path: '^(shared|local|cli|infra|test|bench)/',
        pathNot: ['^shared/(wiring|steps|contracts|observability)/', ...BASE],
      },
    },
    {
      name: 'local-never-imports-cli',
      severity: 'error',
      comment: 'The CLI starts the sandbox; the sandbox does not reach back into the CLI (a loop).',
      from: { path: '^local/' },
      to: { path: '^cli/' },
    },
    {
      name: 'tests-and-benchmarks-stay-apart',
      severity: 'error',
      comment: 'Production code never imports test or bench code.',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // test/fixtures/layering breaks every rule on purpose; test/layering.test.ts cruises it alone.
    exclude: { path: '^(node_modules|cdk\\.out|\\.shiplane|test-results|test/fixtures/layering)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
