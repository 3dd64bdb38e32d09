// Which code may import which: the one statement of the rule. ARCHITECTURE.md points here.
// Data flows otlp -> tsdb <- promql <- scaler <- api <- server <- main.ts, and imports follow it.

/** The files at the top of src/promql/ that its parser, functions and evaluator share. */
const PROMQL_SHARED = ['src/promql/ast.ts', 'src/promql/value.ts', 'src/promql/annotations.ts', 'src/promql/errors.ts'];

/** Each folder of src/ and the parts of src/ it may import (itself included). */
const ALLOWED = {
  // Prometheus-compatibility helpers (Go's number and string formatting, durations, the project
  // root): they import nothing of ours, and every folder may use them.
  'src/common/': ['src/common/'],
  'src/tsdb/': ['src/tsdb/', 'src/common/'],
  'src/otlp/': ['src/otlp/', 'src/tsdb/', 'src/config.ts', 'src/protobuf.ts', 'src/common/'],
  // The second receiver: Prometheus remote write, sharing otlp's label limits and event-loop slicing.
  'src/remotewrite/': ['src/remotewrite/', 'src/otlp/', 'src/tsdb/', 'src/config.ts', 'src/common/'],
  // The store's window on disk: reads and writes tsdb through its public interface.
  'src/persist/': ['src/persist/', 'src/tsdb/', 'src/common/'],
  // The kinds of request body both receivers store, and storing one again: what replication
  // forwards and the write-ahead log keeps.
  'src/body-kinds.ts': ['src/otlp/', 'src/remotewrite/', 'src/common/'],
  // Every replica holding every sample: forwards what the receivers stored, restores a peer's snapshot.
  'src/replicate/': ['src/replicate/', 'src/body-kinds.ts', 'src/otlp/', 'src/remotewrite/', 'src/persist/', 'src/tsdb/', 'src/config.ts', 'src/common/'],
  'src/promql/': ['src/promql/', 'src/tsdb/', 'src/common/', 'src/config.ts'],
  // The language's functions: one table of signatures, flags and implementations, on the shared
  // files at the top of promql/ (the tree, values, annotations, errors).
  'src/promql/functions/': ['src/promql/functions/', ...PROMQL_SHARED, 'src/tsdb/', 'src/common/'],
  // Text to a checked tree, and what can be learnt from the tree alone; evaluation builds on it.
  'src/promql/parser/': ['src/promql/parser/', 'src/promql/functions/', ...PROMQL_SHARED, 'src/tsdb/', 'src/common/'],
  // The settings table gives the engine's defaults, so they cannot disagree with it.
  'src/promql/eval/': ['src/promql/eval/', 'src/promql/parser/', 'src/promql/functions/', ...PROMQL_SHARED, 'src/tsdb/', 'src/common/', 'src/config.ts'],
  ...Object.fromEntries(PROMQL_SHARED.map((file) => [file, [...PROMQL_SHARED, 'src/tsdb/', 'src/common/']])),
  'src/scaler/': ['src/scaler/', 'src/promql/', 'src/tsdb/', 'src/protobuf.ts', 'src/common/', 'src/config.ts'],
  'src/api/': ['src/api/', 'src/scaler/', 'src/promql/', 'src/tsdb/', 'src/protobuf.ts', 'src/common/'],
  'src/server/': ['src/'],
  'src/main.ts': ['src/'],
  'src/config.ts': ['src/common/'],
  'src/protobuf.ts': ['src/common/'],
};

const anchored = (paths) => paths.map((p) => `^${p.replace(/[.]/g, '\\.')}`);

const folderRules = Object.entries(ALLOWED).map(([from, to]) => ({
  name: `imports-of-${from.replace(/^src\//, '').replace(/\/$/, '')}`,
  comment: `${from} may import only ${to.length ? to.join(', ') : 'nothing of ours'}`,
  severity: 'error',
  from: { path: anchored([from])[0] },
  to: { path: '^src/', pathNot: anchored(to) },
}));

module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'src-folder-has-a-row',
      comment: 'a new folder or file at the top of src/ gets its row in ALLOWED before it imports anything of ours',
      severity: 'error',
      from: { path: '^src/', pathNot: anchored(Object.keys(ALLOWED)) },
      to: { path: '^src/' },
    },
    {
      name: 'parser-never-imports-eval',
      comment: 'the parser and the tree analyses know the language, not how it is computed: the API, the scaler and tools parse without loading the engine',
      severity: 'error',
      from: { path: '^src/promql/parser/' },
      to: { path: '^src/promql/eval/' },
    },
    {
      name: 'main-is-the-entry',
      comment: 'src/main.ts wires everything and is imported by nothing',
      severity: 'error',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'src-imports-no-harness',
      comment: 'the product never imports tests, the harness or scripts',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|harness|scripts)/' },
    },
    {
      name: 'harness-reaches-scaler-over-grpc',
      comment:
        'harness, scripts and test helpers play KEDA: they reach src/scaler over its gRPC API with a ' +
        "client built from KEDA's proto (harness/clients/keda.ts), so the client checks the server rather " +
        'than sharing its code. Tests (*.test.ts) may import the modules they test.',
      severity: 'error',
      from: { path: '^(harness|scripts|test)/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/scaler/' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle makes two modules one; split out what both need',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve cannot be checked against the rules above',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // web/ is the browser's code: its imports are URLs the HTTP server answers, not files.
    exclude: { path: '^(dist|node_modules|test-output|web)/' },
    // Type-only imports count: `import type` cycles and upward imports are as real to a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
