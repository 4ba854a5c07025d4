/**
 * Loading a pipeline file: read the YAML, walk it against the key table with
 * `${VAR}` interpolation, merge an Identity Manager settings file if one is
 * named, then build and validate the Pipeline model. Every problem is
 * collected with its file, line and column; nothing touches the network.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigProblems, type Problem } from '../errors.js';
import { Locations, ProblemList } from './locations.js';
import { readObject, type RawObject } from './read-node.js';
import { readYamlMapping } from './read-yaml.js';
import { readSettingsConnection } from './settings-file.js';
import { pipelineSpec } from './spec.js';
import type { Pipeline } from './types.js';
import { buildPipeline } from './validate.js';

export interface LoadOptions {
  env: NodeJS.ProcessEnv;
  /** Directory relative file names are resolved against (default: process.cwd()). */
  cwd?: string;
  /**
   * `--settings FILE`: an Identity Manager appsettings.agent.json taken as the
   * connection, instead of (or without) `connection.settingsFile`. Relative to `cwd`.
   */
  settingsFile?: string;
}

export interface CheckResult {
  pipeline?: Pipeline;
  problems: Problem[];
  /** Where each value was written (for checks that run after loading: validate --online). */
  locs?: Locations;
}

/** Reads and validates a pipeline; throws ConfigProblems (exit 78) listing every problem. */
export async function loadPipeline(file: string, opts: LoadOptions): Promise<Pipeline> {
  const { pipeline, problems } = await checkPipelineFile(file, opts.env, opts.cwd, { settingsFile: opts.settingsFile });
  if (!pipeline || problems.length > 0) {
    throw new ConfigProblems(problems.length ? problems : [{ file, code: 'ERR_CONFIG_INVALID', message: 'invalid pipeline' }]);
  }
  return pipeline;
}

/** Validates a pipeline and returns every problem instead of throwing (the `validate` command). */
export async function checkPipelineFile(
  file: string,
  env: NodeJS.ProcessEnv,
  cwd: string = process.cwd(),
  overrides: { settingsFile?: string } = {},
): Promise<CheckResult> {
  const problems = new ProblemList(file);
  const absPath = resolve(cwd, file);
  const src = await readYamlMapping(file, absPath, problems, 'pipeline');
  if (!src) return { problems: problems.items };

  const locs = new Locations();
  const raw = readObject({ src, env, locs, problems }, src.root, pipelineSpec, [], '');
  if (overrides.settingsFile !== undefined) {
    // The command line names the connection: it wins over the pipeline's settingsFile.
    const conn = (raw.connection ??= {}) as RawObject;
    conn.settingsFile = resolve(cwd, overrides.settingsFile);
  }
  await mergeSettingsFile(raw, file, absPath, locs, problems);
  const pipeline = buildPipeline(raw, { file: absPath, locs, problems });
  if (problems.length > 0 || !pipeline) return { problems: inFileOrder(problems.items, file) };
  return { pipeline, problems: [], locs };
}

/** The pipeline's problems top to bottom, then those of the files it names. */
function inFileOrder(problems: Problem[], file: string): Problem[] {
  const rank = (p: Problem) => (p.file === file ? 0 : 1);
  return [...problems].sort((a, b) => rank(a) - rank(b) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** `connection.settingsFile`: the settings entry fills in what the pipeline does not set. */
async function mergeSettingsFile(raw: RawObject, file: string, absPath: string, locs: Locations, problems: ProblemList): Promise<void> {
  const conn = raw.connection as RawObject | undefined;
  const settingsFile = conn?.settingsFile as string | undefined;
  if (!conn || settingsFile === undefined) return;
  // Shown as the user would reach it: next to the pipeline file as they named it.
  const shown = isAbsolute(settingsFile) ? settingsFile : join(dirname(file), settingsFile);
  const loc = locs.get(['connection', 'settingsFile']);
  const namedAt = loc ? { file: loc.file, line: loc.line, col: loc.col } : undefined;
  const settings = await readSettingsConnection(shown, resolve(dirname(absPath), settingsFile), conn.identifier as string | undefined, problems, namedAt);
  if (!settings) {
    if (loc) loc.bad = true;
    // Values it would have provided are not "missing": mark them so no second problem is reported.
    for (const k of ['identifier', 'server']) if (conn[k] === undefined) locs.set(['connection', k], { ...loc!, bad: true });
    return;
  }
  if (conn.identifier === undefined) {
    conn.identifier = settings.identifier;
    locs.set(['connection', 'identifier'], locs.get(['connection', 'settingsFile'])!);
  }
  for (const [k, v] of Object.entries(settings.values)) {
    if (k === 'settingsFile' || conn[k] !== undefined || locs.isBad(['connection', k])) continue;
    conn[k] = v;
    locs.copySubtree(settings.locs, ['connection', k]);
  }
}
