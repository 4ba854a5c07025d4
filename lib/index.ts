/**
 * scim-etl as a library: the same stages the CLI composes, for programs that
 * build their own pipelines. Everything here is covered by the CLI's tests.
 */
export { ScimEtlError, ConfigProblems, EXIT, formatProblem, isScimEtlError, type Problem, type ErrorCategory } from './errors.js';
export { Logger, silentLogger, type LoggerOptions, type LogFormat } from './log.js';
export { redact, registerSecret, safeUrl } from './redact.js';
export type { ScimResource, Row, MemberRow, Order, Operation, Outcome } from './types.js';
export type { Pipeline, ConnectionConfig, ExportConfig, FulfillConfig, EntityExport, DialectName } from './config/types.js';

// Configuration
export { loadPipeline, checkPipelineFile } from './config/load.js';
export { resolveConnectionSecrets } from './config/secrets/index.js';

// SCIM protocol
export { parseFilter, formatFilter, matchesFilter, parsePatchPath, quoteLiteral, type FilterNode, type AttrPath } from './scim/filter.js';
export { parseColumnPath, toScimAttribute, KNOWN_SCHEMAS, type ColumnPath } from './scim/path.js';
export { createScimClient, type ScimClient, type ScimRequest, type ScimResponse, type ClientOptions } from './scim/client.js';
export { createAuth } from './scim/auth/index.js';
export { readColumn } from './scim/read-column.js';
export { unflatten, patchOperations } from './scim/unflatten.js';
export { BUILTIN_SCHEMAS } from './scim/schemas.js';

// Export stages
export { runExport, planTables, selectTables, tableFileName, type ExportOptions, type ExportResult, type TableResult } from './export.js';
export { scimListSource, type ScimListSourceOptions } from './streams/sources/scim-list-source.js';
export { membersSource, type MembersSourceOptions } from './streams/sources/members-source.js';
export { indexPager, cursorPager, keysetPager, type Pager } from './streams/sources/pagers.js';
export { IdSet } from './streams/sources/id-set.js';
export { flatten, flattenResource } from './streams/transforms/flatten.js';
export { csvTableSink, tableFormatter } from './streams/sinks/csv-table-sink.js';
export { atomicFile } from './streams/sinks/atomic-file.js';

// Fulfill stages
export { runFulfill, type FulfillOptions, type FulfillReport } from './fulfill.js';
export { createOrderSource } from './streams/sources/csv-order-source.js';
export { createOrderPlanner } from './streams/transforms/plan-orders.js';
export { createBatcher } from './streams/transforms/batch.js';
export { createBulkSink } from './fulfill/bulk-sink.js';
export { createRequestSink } from './fulfill/request-sink.js';
export { ResultsWriter, createResultsSink, RESULT_COLUMNS } from './streams/sinks/results-sink.js';

// Sandbox server
export { startSandbox, type Sandbox, type SandboxOptions } from './sandbox/index.js';

// CLI (tests and embedding)
export { run, buildParser, main } from './cli/main.js';
