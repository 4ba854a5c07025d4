/**
 * Runs one scim-etl command in this process and reports what it cost:
 * wall seconds, peak RSS and exit code, as one JSON line on fd 3 (so the
 * command's own stdout and stderr stay untouched).
 *
 *   node --import tsx bench/measure.ts <scim-etl argv…>  3>result.json
 */
import { createWriteStream } from 'node:fs';
import { run } from '../lib/cli/main.js';

const started = process.hrtime.bigint();
const code = await run({ argv: process.argv.slice(2), stdout: createWriteStream('/dev/null') });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const result = { code, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
createWriteStream('', { fd: 3 }).end(JSON.stringify(result) + '\n');
