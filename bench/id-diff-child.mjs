// The measured process of bench/id-diff.ts: plain node on the built lib (dist/), as an installed scim-etl runs.
// argv: <ids> <dir>. Writes the previous set (sorted), then runs deletion detection over the current listing.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { appendDeletes } from '../dist/lib/incremental/deletes.js';
import { IdSorter } from '../dist/lib/incremental/id-set.js';
import { idOf, isGone } from './id-diff-ids.mjs';

const count = Number(process.argv[2]);
const dir = process.argv[3];

const prevSorter = new IdSorter(dir);
for (let n = 0; n < count; n++) await prevSorter.add(idOf(n));
const prev = createWriteStream(join(dir, 'previous.ids'));
for await (const id of prevSorter.sorted()) if (!prev.write(id + '\n')) await once(prev, 'drain');
prev.end();
await once(prev, 'finish');

async function* listIds() {
  for (let n = 0; n < count + count / 100; n++) if (!isGone(n)) yield idOf(n);
}
const writer = createWriteStream(join(dir, 'next.ids'));
const stats = { deleted: 0 };
const stage = appendDeletes({ ids: { previous: join(dir, 'previous.ids'), writer, sorter: new IdSorter(dir) }, idColumn: 'id', stats, listIds });
for await (const row of stage((async function* () {})())) void row;
process.stdout.write(JSON.stringify({ deleted: stats.deleted }));
