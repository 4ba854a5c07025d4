/**
 * The shipped JSON Schema (editor completion) and the validator must know the
 * same keys: the schema is generated from the validator's key table, and this
 * test fails when schema/pipeline.schema.json is stale or they drift apart.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SCHEMA_FILE, renderJsonSchema } from '../../lib/config/json-schema.js';
import { knownKeyPaths } from '../../lib/config/spec.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
type Json = Record<string, any>;
const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Json;

/** Key paths a schema declares under `properties`, maps as "*". */
function schemaKeyPaths(s: Json, prefix = ''): string[] {
  if (s.properties) {
    return Object.entries(s.properties as Json).flatMap(([k, sub]) => {
      const p = prefix ? `${prefix}.${k}` : k;
      return [p, ...schemaKeyPaths(sub as Json, p)];
    });
  }
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    const values = s.additionalProperties.anyOf?.[0] ?? s.additionalProperties;
    return schemaKeyPaths(values as Json, `${prefix}.*`);
  }
  return [];
}

function resolveRef(ref: string): Json {
  return ref
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .reduce<Json>((node, part) => node[part] as Json, schema);
}

/** Every key of `value` must be allowed by the object schema `s` (properties or a case-insensitive pattern). */
function unknownKeys(value: unknown, s: Json, where = ''): string[] {
  if (s.$ref) return unknownKeys(value, resolveRef(s.$ref as string), where);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  if (s.properties) {
    return Object.entries(value as Json).flatMap(([k, v]) => {
      const direct = (s.properties as Json)[k] as Json | undefined;
      const pattern = Object.entries((s.patternProperties ?? {}) as Json).find(([re]) => new RegExp(re).test(k));
      const sub = direct ?? (pattern?.[1] as Json | undefined);
      if (!sub) return [`${where}${k}`];
      return unknownKeys(v, sub, `${where}${k}.`);
    });
  }
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const values = (s.additionalProperties.anyOf?.[0] ?? s.additionalProperties) as Json;
    return Object.entries(value as Json).flatMap(([k, v]) => unknownKeys(v, values, `${where}${k}.`));
  }
  return [];
}

describe('schema/pipeline.schema.json', () => {
  it('is up to date with the validator (regenerate: see lib/config/json-schema.ts)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).to.equal(renderJsonSchema());
  });

  it('declares exactly the keys the validator knows', () => {
    expect(schemaKeyPaths(schema).sort()).to.deep.equal(knownKeyPaths().sort());
  });

  it('accepts every spelling of a key through patternProperties that point at the canonical key', () => {
    const conn = schema.properties.connection as Json;
    const server = Object.entries(conn.patternProperties as Json).find(([re]) => new RegExp(re).test('Server'))!;
    expect(server[1]).to.deep.equal({ $ref: '#/properties/connection/properties/server' });
    expect(resolveRef('#/properties/connection/properties/server')).to.equal(conn.properties.server);
    expect(new RegExp(server[0]).test('SERVER')).to.equal(true);
    expect(new RegExp(server[0]).test('servers')).to.equal(false);
    expect(conn.additionalProperties).to.equal(false);
  });

  it('knows every key used in the shipped pipelines, in whatever case they are written', () => {
    for (const f of readdirSync(path.join(root, 'pipelines')).filter((n) => n.endsWith('.yaml'))) {
      const value = parse(readFileSync(path.join(root, 'pipelines', f), 'utf8'));
      expect(unknownKeys(value, schema), f).to.deep.equal([]);
    }
  });

  it('finds an unknown key as the validator does', () => {
    expect(unknownKeys({ connection: { sever: 'x', Server: 'y' } }, schema)).to.deep.equal(['connection.sever']);
  });
});
