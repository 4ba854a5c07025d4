/**
 * `npm run demo`: start the sandbox with the sample directory, run the shipped
 * export and fulfill pipelines against it through the real CLI, print where
 * the CSVs are, export again to show the changes, and stop the sandbox.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSandbox } from '../lib/sandbox/index.js';
import { run } from '../lib/cli/main.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'demo-output');
const TOKEN = 'sandbox-token';

function rowsIn(file: string): number {
  return (parse(readFileSync(file, 'utf8')) as unknown[]).length - 1;
}

function listDir(dir: string): void {
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    console.log(`  ${relative(process.cwd(), file)}  (${rowsIn(file)} rows)`);
  }
}

async function step(title: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  console.log(`\n$ scim-etl ${argv.join(' ')}    # ${title}`);
  const code = await run({ argv, env: { ...process.env, ...env } });
  console.log(`exit ${code}`);
  return code;
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const sandbox = await startSandbox({ data: join(ROOT, 'samples/directory.json'), token: TOKEN });
  console.log(`sandbox SCIM server at ${sandbox.url}/v2 (token ${TOKEN}) with ${sandbox.store.users.length} users and ${sandbox.store.groups.length} groups`);
  const env = { SCIM_SERVER: sandbox.url, SCIM_TOKEN: TOKEN };
  let failed = false;
  try {
    const exportPipeline = relative(process.cwd(), join(ROOT, 'pipelines/export-users-groups.yaml'));
    const fulfillPipeline = relative(process.cwd(), join(ROOT, 'pipelines/fulfill-users.yaml'));
    failed ||= (await step('export before', ['export', exportPipeline, '--output', join(OUT, 'export-before')], env)) !== 0;
    failed ||= (await step('what fulfill would send', ['fulfill', fulfillPipeline, '--dry-run', '--quiet'], env)) !== 0;
    failed ||= (await step('apply the sample orders', ['fulfill', fulfillPipeline, '--results', join(OUT, 'results')], env)) !== 0;
    failed ||= (await step('export after', ['export', exportPipeline, '--output', join(OUT, 'export-after')], env)) !== 0;
    console.log('\nFiles written:');
    for (const d of ['export-before', 'results', 'export-after']) listDir(join(OUT, d));
    console.log(`\nCompare ${relative(process.cwd(), join(OUT, 'export-before'))} with ${relative(process.cwd(), join(OUT, 'export-after'))} to see the orders applied.`);
  } finally {
    await sandbox.stop();
  }
  process.exitCode = failed ? 1 : 0;
}

await main();
