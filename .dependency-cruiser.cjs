/**
 * The floors of the engine (docs/architecture.md), checked by `npm run lint:deps` (part of
 * `npm test`). Each floor may import only floors below it; the rules are generated one per pair
 * (lower floor, higher floor), so a violation names both: `kernel-must-not-import-actions:
 * src/engine/x.ts → src/actions/y.ts`. Type-only imports count (tsPreCompilationDeps), so a floor
 * can't lean on a higher one's types either; dynamic imports count too.
 *
 * Bottom to top. `src/errors.ts` (the one error table) is below everything.
 */
const FLOORS = [
  ['errors', '^src/errors\\.ts$'],
  ['domain', '^src/domain/'],
  ['machines', '^src/machines/'],
  ['flows', '^src/flows/'],
  ['storage', '^src/storage/'],
  ['integrations', '^src/integrations/'],
  // src/engine without the facade files below.
  ['kernel', '^src/engine/(?!(engine|checkout-runner|flow-host|flow-standins|interviews|flow-loading)\\.ts$)'],
  ['actions', '^src/actions/'],
  ['facade', '^src/engine/(engine|checkout-runner|flow-host|flow-standins|interviews|flow-loading)\\.ts$'],
  // The Commerce Connect storefront API's services (docs/connect-api.md): above the facade, below the faces.
  ['connect', '^src/connect/'],
  ['faces', '^src/(http|cli|scenarios|inspect|demo)/'],
  ['entry', '^src/index\\.ts$'],
];

/** `<lower>-must-not-import-<higher>` for every pair of floors. */
const upward = FLOORS.flatMap(([lower, from], i) =>
  FLOORS.slice(i + 1).map(([higher, to]) => ({
    name: `${lower}-must-not-import-${higher}`,
    comment: `The ${lower} floor imports only floors below it; ${higher} is above it (docs/architecture.md).`,
    severity: 'error',
    from: { path: from },
    to: { path: to },
  })),
);

/** Files only the runtime, the package exports or a tool load (no module imports them). */
const ENTRY_POINTS = [
  '^src/index\\.ts$',
  '^src/(http|scenarios|inspect)/index\\.ts$',
  '^src/scenarios/vitest\\.ts$',
  '^src/cli/bin\\.mjs$',
  // Loaded by folder name at run time (src/storage/index.ts storageBackends).
  '^src/storage/[^/]+/backend\\.ts$',
];

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'module-outside-the-floors',
      comment: 'Every module under src/ belongs to a floor: a new folder is placed in FLOORS (and docs/architecture.md) first.',
      severity: 'error',
      from: { path: '^src/', pathNot: FLOORS.map(([, path]) => path) },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'No import circle, of values or of types: a circle makes two modules one floor in disguise.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'flows-only-language-deps',
      comment: 'The flow language (src/flows) is pure: domain, machines, errors and its own parsers, no engine, storage or HTTP.',
      severity: 'error',
      from: { path: '^src/flows/' },
      to: {
        dependencyTypesNot: ['local', 'type-only'],
        pathNot: ['node_modules/(xstate|zod|fast-xml-parser)/', '^(node:)?(fs|fs/promises|path)$'],
      },
    },
    {
      name: 'domain-only-pure-deps',
      comment: 'The domain knows no database, server or clock: only zod, decimal.js, the SOQL parser and node:crypto (ids).',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: {
        dependencyTypesNot: ['local', 'type-only'],
        pathNot: ['node_modules/(zod|decimal\\.js|@jetstreamapp/soql-parser-js)/', '^(node:)?crypto$'],
      },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports is dead code, unless it is an entry point.',
      severity: 'error',
      from: { orphan: true, pathNot: [...ENTRY_POINTS, '\\.d\\.ts$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or a package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['checkout-engine-source', 'import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
