// The measured process of bench/id-diff.ts: plain node on the built lib (dist/), as an installed scim-etl runs.
// argv: <ids> <dir>. <dir>/previous.ids is the previous run's set (written by the parent, not measured);
// this runs deletion detection over the current listing, as an incremental export's Users table does.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { appendDeletes } from '../dist/lib/incremental/deletes.js';
import { IdSorter } from '../dist/lib/incremental/id-set.js';
import { idOf, isGone } from './id-diff-ids.mjs';

const count = Number(process.argv[2]);
const dir = process.argv[3];

async function* listIds() {
  for (let n = 0; n < count + count / 100; n++) if (!isGone(n)) yield idOf(n);
}
const writer = createWriteStream(join(dir, 'next.ids'));
const stats = { deleted: 0 };
const stage = appendDeletes({ ids: { previous: join(dir, 'previous.ids'), writer, sorter: new IdSorter(dir) }, idColumn: 'id', stats, listIds });
for await (const row of stage((async function* () {})())) void row;
process.stdout.write(JSON.stringify({ deleted: stats.deleted }));
