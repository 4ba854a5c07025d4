import { expect } from 'chai';
import { JsonScanError, MemberScanner, type WalkEvent } from '../../lib/streams/sources/member-scanner.js';
import { isCutBody } from '../../lib/streams/sources/broken-body.js';
import { prng } from '../../lib/sandbox/generate.js';

type Shape = 'list' | 'resource';

/** The scanner over `body` cut into chunks at `cuts` (increasing offsets). */
function scan(body: Buffer, shape: Shape, attr: string | undefined, cuts: number[] = []): { events: WalkEvent[]; started: boolean } {
  const scanner = new MemberScanner(shape, attr);
  const events: WalkEvent[] = [];
  let from = 0;
  for (const at of [...cuts, body.length]) {
    // Each chunk is a copy: the scanner must not rely on bytes of a chunk it has finished with.
    if (at > from) scanner.push(Buffer.from(body.subarray(from, at)), events);
    from = at;
  }
  scanner.end();
  return { events, started: scanner.started };
}


function randomCuts(length: number, rnd: () => number, maxChunk: number): number[] {
  const cuts: number[] = [];
  for (let at = 1 + Math.floor(rnd() * maxChunk); at < length; at += 1 + Math.floor(rnd() * maxChunk)) cuts.push(at);
  return cuts;
}

const everyByte = (length: number) => Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1);

/**
 * What the walk must report, computed from JSON.parse of the same body (an
 * independent reading of the rules, not the scanner's code): ListResponse
 * total/Resources/schemas/status/detail/Errors at the top; per resource its
 * start, id, the attribute's values (objects' `value`, plain strings and
 * numbers; `{}` without a value is hollow) and end. Keys case-insensitive.
 */
function reference(body: Buffer | string, shape: Shape, attr: string | undefined): WalkEvent[] {
  const root: unknown = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  const out: WalkEvent[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
  const member = (m: Record<string, unknown>) => {
    let valued = false;
    for (const [k, v] of Object.entries(m)) {
      const t = k.toLowerCase() === 'value' ? text(v) : undefined;
      if (t !== undefined) {
        valued = true;
        out.push({ t: 'member', value: t });
      }
    }
    if (!valued) out.push({ t: 'hollow' });
  };
  /** Keys only the reply's top object reports; true when the key was taken. */
  const topKey = (k: string, v: unknown): boolean => {
    if (k === 'schemas' && Array.isArray(v)) {
      for (const s of v) if (typeof s === 'string') out.push({ t: 'schema', urn: s });
      return true;
    }
    if ((k === 'status' || k === 'detail') && text(v) !== undefined) {
      out.push({ t: 'error', key: k, value: text(v) });
      return true;
    }
    if (k === 'errors' && typeof v === 'object' && v !== null) out.push({ t: 'error', key: 'errors' });
    return false;
  };
  const resource = (r: Record<string, unknown>, top: boolean) => {
    out.push({ t: 'start' });
    for (const [k0, v] of Object.entries(r)) {
      const k = k0.toLowerCase();
      if (top && topKey(k, v)) continue;
      if (k === 'id' && text(v) !== undefined) out.push({ t: 'id', id: text(v)! });
      else if (attr !== undefined && k === attr.toLowerCase()) {
        if (isObj(v)) member(v);
        else if (Array.isArray(v))
          for (const m of v) {
            if (isObj(m)) member(m);
            else if (text(m) !== undefined) out.push({ t: 'member', value: text(m)! });
          }
      }
    }
    out.push({ t: 'end' });
  };
  if (!isObj(root)) return out;
  if (shape === 'resource') {
    resource(root, true);
    return out;
  }
  for (const [k0, v] of Object.entries(root)) {
    const k = k0.toLowerCase();
    if (topKey(k, v)) continue;
    if (k === 'totalresults' && text(v) !== undefined) {
      const n = Number(text(v));
      if (Number.isInteger(n) && n >= 0) out.push({ t: 'total', n });
    } else if (k === 'resources' && Array.isArray(v)) {
      out.push({ t: 'resources' });
      for (const r of v) if (isObj(r)) resource(r, false);
    }
  }
  return out;
}

/** Scans `body` whole, one byte at a time and in random chunks; each must give what JSON.parse of it says. */
function expectSameAsParse(body: Buffer | string, shape: Shape, attr: string | undefined, seed = 1): WalkEvent[] {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const want = reference(bytes, shape, attr);
  expect(scan(bytes, shape, attr).events, 'whole').to.deep.equal(want);
  expect(scan(bytes, shape, attr, everyByte(bytes.length)).events, 'one byte at a time').to.deep.equal(want);
  const rnd = prng(seed);
  for (const max of [3, 17, 200]) expect(scan(bytes, shape, attr, randomCuts(bytes.length, rnd, max)).events, `chunks of up to ${max}`).to.deep.equal(want);
  return want;
}

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

describe('MemberScanner', () => {
  it('reports total, ids and member values of a list page, ignoring look-alikes elsewhere', () => {
    const json = JSON.stringify({
      totalResults: 2,
      meta: { id: 'not-this' },
      Resources: [
        { meta: { id: 'nor-this' }, Members: [{ value: 'a', nested: { value: 'no' } }, 'b'], ID: 'g1', owners: [{ value: 'no' }] },
        { id: 'g2', members: { value: 'single' } },
      ],
    });
    expect(scan(Buffer.from(json), 'list', 'members').events).to.deep.equal([
      { t: 'total', n: 2 },
      { t: 'resources' },
      { t: 'start' },
      { t: 'member', value: 'a' },
      { t: 'member', value: 'b' },
      { t: 'id', id: 'g1' },
      { t: 'end' },
      { t: 'start' },
      { t: 'id', id: 'g2' },
      { t: 'member', value: 'single' },
      { t: 'end' },
    ]);
    expectSameAsParse(json, 'list', 'members');
  });

  it('walks a single resource and other attributes (privilegedData)', () => {
    const json = JSON.stringify({ id: 'Safe1', privilegedData: [{ value: '52_88', display: 'acc' }, { value: 7 }] });
    expect(scan(Buffer.from(json), 'resource', 'privilegedData').events).to.deep.equal([
      { t: 'start' },
      { t: 'id', id: 'Safe1' },
      { t: 'member', value: '52_88' },
      { t: 'member', value: '7' },
      { t: 'end' },
    ]);
    expectSameAsParse(json, 'resource', 'privilegedData');
  });

  it('decodes escapes in ids, values and keys (\\" \\\\ \\/ \\n \\uXXXX, surrogate pairs, a lone surrogate)', () => {
    const body = String.raw`{"schemas":["urn:a\"b"],"totalResults":1,"Resources":[{"i\u0064":"g\"1\\x\/y","members":[{"val\u0075e":"u\u00e9\ud83d\ude00\n\t\b\f\r"},{"value":"\ud800 lone"},{"value":"plain \u0041"}]}]}`;
    const events = expectSameAsParse(body, 'list', 'members');
    expect(events).to.deep.include({ t: 'id', id: 'g"1\\x/y' });
    expect(events).to.deep.include({ t: 'member', value: 'u\u00e9\u{1f600}\n\t\b\f\r' });
  });

  it('compares keys case-insensitively (ReSoUrCeS, TOTALRESULTS, Id, MEMBERS, VALUE, an attribute configured in odd case)', () => {
    const body = '{"TOTALRESULTS":2,"ReSoUrCeS":[{"Id":"g1","MEMBERS":[{"VALUE":"a"},{"vAlUe":"b"}]},{"iD":"g2","mEmBeRs":["c"]}],"SCHEMAS":["urn:x"]}';
    const events = expectSameAsParse(body, 'list', 'members');
    expect(events.filter((e) => e.t === 'member')).to.have.length(3);
    expect(scan(Buffer.from(body), 'list', 'MeMbErS').events).to.deep.equal(events);
  });

  it('takes plain string and number ids, hollow {} elements and nested objects inside elements', () => {
    const body = JSON.stringify({
      Resources: [
        {
          id: 'g1',
          members: ['s1', 42, { value: 'o1', display: 'x', sub: { value: 'not-me', deeper: [{ value: 'nor-me' }] } }, {}, { display: 'no value' }, { value: null }, [{ value: 'in-array' }], true, null, { value: 'o2' }],
        },
      ],
    });
    const events = expectSameAsParse(body, 'list', 'members');
    expect(events.filter((e) => e.t === 'hollow')).to.have.length(3);
    expect(events.filter((e) => e.t === 'member').map((e) => (e as { value: string }).value)).to.deep.equal(['s1', '42', 'o1', 'o2']);
  });

  it('reads whitespace and newlines everywhere, and the spaces the old parser took (byte order mark, NBSP, U+2028, \\v, \\f)', () => {
    // No punctuation inside the strings: the spaces below go between tokens only.
    const obj = { schemas: ['urn-x'], totalResults: 1, Resources: [{ id: 'g1', members: [{ value: 'a' }, 'b', {}, 7] }] };
    expectSameAsParse(JSON.stringify(obj, null, '\t'), 'list', 'members');
    const spaced = JSON.stringify(obj).replace(/([{}[\],:])/g, ' \r\n\t$1\n ');
    expectSameAsParse(` \n${spaced}\r\n `, 'list', 'members');
    // JSON.parse refuses these spaces: the events must be those of the same body without them.
    const odd = '\ufeff' + JSON.stringify(obj).replace(/([{}[\],:])/g, '\u00a0$1\u2028\u000b\u000c\u3000');
    const bytes = Buffer.from(odd);
    const want = reference(JSON.stringify(obj), 'list', 'members');
    expect(scan(bytes, 'list', 'members').events).to.deep.equal(want);
    expect(scan(bytes, 'list', 'members', everyByte(bytes.length)).events).to.deep.equal(want);
  });

  it('holds links whose id comes after the members array, in body order', () => {
    const body = '{"Resources":[{"members":[{"value":"a"},{"value":"b"}],"displayName":"x","id":"late"},{"id":"early","members":[]}]}';
    const events = expectSameAsParse(body, 'list', 'members');
    expect(events.slice(1, 5)).to.deep.equal([{ t: 'start' }, { t: 'member', value: 'a' }, { t: 'member', value: 'b' }, { t: 'id', id: 'late' }]);
  });

  it('reports what an error body carries (schemas, status, detail, Errors)', () => {
    expectSameAsParse(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '404', scimType: 'invalidValue', detail: 'Group "g" not found' }), 'list', 'members');
    expectSameAsParse(JSON.stringify({ Errors: [{ description: 'x', code: 500 }], status: 500, detail: 'busy' }), 'resource', 'members');
    expectSameAsParse('{"Errors":{"description":"x"}}', 'list', 'members');
  });

  it('reads ids only when no attribute is asked for, and a top that is not an object', () => {
    expectSameAsParse(JSON.stringify({ Resources: [{ id: 'g1', members: [{ value: 'a' }] }] }), 'list', undefined);
    for (const top of ['[{"id":"x"}]', '"text"', '12', 'true', 'null']) expect(scan(Buffer.from(top), 'list', 'members').events).to.deep.equal(reference(top, 'list', 'members'));
  });

  it('decodes bytes that are not UTF-8 as U+FFFD, as the whole body decoded would', () => {
    const head = Buffer.from('{"Resources":[{"id":"g');
    const bad = Buffer.from([0xff, 0xe2, 0x82, 0x22, 0x2c, 0x22, 0x64, 0x22, 0x3a, 0x22, 0xc3]); // g\xff\xe2\x82","d":"\xc3
    const tail = Buffer.concat([Buffer.from('","members":[{"value":"\u00e9t\u00e9 \ud83d\ude00"},"x'), Buffer.from([0xf0, 0x9f]), Buffer.from('"]}]}')]);
    const body = Buffer.concat([head, bad, Buffer.from('x'), tail]);
    const events = expectSameAsParse(body, 'list', 'members');
    expect(events[2]).to.deep.equal({ t: 'id', id: 'g\ufffd\ufffd' });
  });

  it('gives the events of JSON.parse for random SCIM-like bodies in random chunks', () => {
    const rnd = prng(20261202);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const caseOf = (k: string) => (rnd() < 0.3 ? [...k].map((c) => (rnd() < 0.5 ? c.toUpperCase() : c)).join('') : k);
    const str = () => pick(['a', 'é', 'x"y', 'back\\slash', '\u2028', '😀', 'tab\t', 'user-' + Math.floor(rnd() * 1000), '']);
    const junk = (depth: number): unknown => {
      const r = rnd();
      if (depth > 2 || r < 0.4) return pick([str(), 1, -2.5, true, false, null]);
      if (r < 0.7) return Array.from({ length: Math.floor(rnd() * 3) }, () => junk(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 3) }, () => [caseOf(pick(['value', 'id', 'display', 'members', 'x'])), junk(depth + 1)]));
    };
    const element = () => {
      const r = rnd();
      if (r < 0.15) return str();
      if (r < 0.2) return {};
      const el: Record<string, unknown> = {};
      for (const k of ['value', 'display', '$ref', 'type', 'nested'].filter(() => rnd() < 0.6)) el[caseOf(k)] = k === 'nested' ? junk(1) : str();
      return el;
    };
    const resource = () => {
      const r: Record<string, unknown> = {};
      for (const k of ['schemas', 'id', 'displayName', 'members', 'meta'].sort(() => rnd() - 0.5)) {
        if (rnd() < 0.15) continue;
        r[caseOf(k)] = k === 'members' ? Array.from({ length: Math.floor(rnd() * 6) }, element) : k === 'meta' ? junk(0) : k === 'schemas' ? ['urn:g'] : str();
      }
      return r;
    };
    for (let n = 0; n < 60; n++) {
      const body = { schemas: [LIST], [caseOf('totalResults')]: Math.floor(rnd() * 5), [caseOf('Resources')]: Array.from({ length: Math.floor(rnd() * 4) }, resource) };
      const text = rnd() < 0.3 ? JSON.stringify(body, null, pick([' ', '\t', '\r\n'])) : JSON.stringify(body);
      expectSameAsParse(text, 'list', 'members', n);
    }
  });

  describe('refuses what is not JSON', () => {
    const bad: Array<[string, string]> = [
      ['missing comma', '{"Resources":[{"id":"a" "members":[]}]}'],
      ['missing comma in an array', '{"Resources":[{"id":"a"} {"id":"b"}]}'],
      ['trailing comma in an array', '{"Resources":[{"id":"a"},]}'],
      ['trailing comma in an object', '{"Resources":[{"id":"a",}]}'],
      ['bad literal', '{"Resources":[{"id":tru}]}'],
      ['bad literal (case)', '{"totalResults":1,"x":True}'],
      ['bad literal (end)', '{"x":nul1}'],
      ['missing colon', '{"id" "a"}'],
      ['a key that is not a string', '{id:"a"}'],
      ['a close that does not match', '{"Resources":[{"id":"a"}}}'],
      ['a bad escape', '{"id":"a\\x"}'],
      ['a bad \\u escape', '{"id":"\\u12G4"}'],
      ['a raw control character in a string that is not read', '{"displayName":"a\nb","id":"x"}'],
      ['a leading zero', '{"totalResults":01}'],
      ['a dot without digits', '{"totalResults":1.}'],
      ['a bare minus', '{"totalResults":-}'],
      ['an exponent without digits', '{"totalResults":1e}'],
      ['a plus sign', '{"totalResults":+1}'],
      ['a second value after the top one', '{"id":"a"}{"id":"b"}'],
      ['text after the top value', '{"id":"a"} x'],
    ];
    for (const [what, body] of bad) {
      it(`${what}: ${body}`, () => {
        expect(() => JSON.parse(body), 'JSON.parse agrees').to.throw(SyntaxError);
        for (const cuts of [[], everyByte(body.length)]) {
          let err: unknown;
          try {
            scan(Buffer.from(body), 'list', 'members', cuts);
          } catch (e) {
            err = e;
          }
          expect(err).to.be.instanceOf(JsonScanError);
          // It began as JSON: a body broken mid-way, asked again like a cut.
          expect(isCutBody(err)).to.equal(true);
        }
      });
    }

    it('an unclosed string, object or number at the end of the body is a cut body (started)', () => {
      for (const body of ['{"Resources":[{"id":"a', '{"Resources":[{"id":"a"}', '{"totalResults":12', '{"id":"a\\', '{"id":"\\u00', '{"x":tr']) {
        expect(() => JSON.parse(body)).to.throw(SyntaxError);
        const scanner = new MemberScanner('list', 'members');
        scanner.push(Buffer.from(body), []);
        expect(() => scanner.end()).to.throw(JsonScanError, /ends early/);
        expect(scanner.started).to.equal(true);
      }
    });

    it('a multi-byte character cut by the end of the body after the top value is refused; a whole space there is not', () => {
      const json = Buffer.from('{"id":"a"}');
      for (const end of [[0xc2], [0xe2, 0x80], [0xef, 0xbb]]) {
        const body = Buffer.concat([json, Buffer.from(end)]);
        expect(() => JSON.parse(body.toString('utf8'))).to.throw(SyntaxError);
        expect(() => scan(body, 'list', 'members')).to.throw(JsonScanError, /cut short/);
      }
      const spaced = Buffer.concat([json, Buffer.from('\u00a0\u2028')]);
      expect(scan(spaced, 'list', 'members', everyByte(spaced.length)).events).to.deep.equal([]);
    });

    it('a body that is not JSON from its first byte never counts as started', () => {
      for (const body of ['Service Unavailable', '<html><body>down</body></html>', 'nope', '', '   ', ']', '\u00a0x']) {
        expect(() => JSON.parse(body)).to.throw(SyntaxError);
        const scanner = new MemberScanner('list', 'members');
        expect(() => {
          scanner.push(Buffer.from(body), []);
          scanner.end();
        }).to.throw(JsonScanError);
        expect(scanner.started, body).to.equal(false);
      }
    });

    it('says where the bad byte is, counting the bytes of earlier chunks', () => {
      const body = Buffer.from('{"Resources":[{"id":"a"},]}');
      let err: JsonScanError | undefined;
      try {
        scan(body, 'list', 'members', [5, 12, 20]);
      } catch (e) {
        err = e as JsonScanError;
      }
      expect(err?.offset).to.equal(body.indexOf(']'));
      expect(err?.message).to.include(`at byte ${body.indexOf(']')}: expected a value`);
    });
  });

  it('reads a value longer than many chunks, and steps over a long string it does not report', () => {
    const long = 'v'.repeat(200_000) + '\u00e9';
    const body = JSON.stringify({ Resources: [{ displayName: 'd'.repeat(300_000), id: 'g', members: [{ value: long, display: 'x'.repeat(100_000) }] }] });
    const bytes = Buffer.from(body);
    const events = scan(bytes, 'list', 'members', randomCuts(bytes.length, prng(7), 4096)).events;
    expect(events).to.deep.equal(reference(body, 'list', 'members'));
  });
});
