// The limit: the least a Node client must do to read a SCIM directory, which
// is to fetch every page and JSON.parse it (no flattening, no CSV, no file).
// Plain JavaScript (no tsx) on node:http with keep-alive, so that it costs
// what a hand-written loop costs. Prints the number of resources (or members)
// read on stdout, for bench/run.ts to check.
//
//   node bench/limit.mjs users <base>/v2/Users <count> <concurrency>
//   node bench/limit.mjs group <base>/v2/Groups?attributes=id,members
import http from 'node:http';

const [mode, url, countArg, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg ?? 1);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const headers = { authorization: 'Bearer bench-token', accept: 'application/scim+json' };

function get(href) {
  return new Promise((resolve, reject) => {
    http
      .get(href, { agent, headers }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`GET ${href}: ${res.statusCode} ${body.slice(0, 200)}`));
          else resolve(JSON.parse(body));
        });
      })
      .on('error', reject);
  });
}

if (mode === 'users') {
  const count = Number(countArg);
  const page = (start) => get(`${url}?startIndex=${start}&count=${count}`);
  const first = await page(1);
  let rows = first.Resources.length;
  const starts = [];
  for (let s = 1 + count; s <= first.totalResults; s += count) starts.push(s);
  async function worker() {
    for (let s = starts.shift(); s !== undefined; s = starts.shift()) {
      const n = (await page(s)).Resources.length;
      rows += n;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  console.log(rows);
} else if (mode === 'group') {
  const list = await get(url);
  let rows = 0;
  for (const g of list.Resources ?? [list]) rows += g.members?.length ?? 0;
  console.log(rows);
} else {
  console.error('usage: limit.mjs users <url> <count> <concurrency> | group <url>');
  process.exit(64);
}
agent.destroy();
