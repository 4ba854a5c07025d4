/**
 * The sandbox in one dialect, with the credentials and sample data its
 * shipped pipeline (pipelines/<dialect>.yaml) expects, and the environment
 * that points that pipeline at it.
 */
import { join, resolve } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../lib/sandbox/index.js';
import { perTestSandbox } from '../helpers/per-test.js';

export const ROOT = resolve(import.meta.dirname, '../..');

export type DialectKey = 'rfc' | 'salesforce' | 'slack' | 'cyberark';

export interface DialectRig {
  pipeline: string;
  /** The pipeline with the fulfill section (the same one except for RFC). */
  fulfillPipeline: string;
  identifier: string;
  sandbox: SandboxOptions;
  env: (sb: Sandbox) => Record<string, string>;
}

const SF_OAUTH = { clientId: 'sf-consumer-key', clientSecret: 'sf-consumer-secret', login: 'admin@example.com', password: 'pw+securitytoken' };
const CA_OAUTH = { clientId: 'scim', clientSecret: 'unused-secret', login: 'svc-scim@tenant', password: 'svc-password' };

export const RIGS: Record<DialectKey, DialectRig> = {
  rfc: {
    pipeline: join(ROOT, 'pipelines/export-users-groups.yaml'),
    fulfillPipeline: join(ROOT, 'pipelines/fulfill-users.yaml'),
    identifier: 'SCIMExport',
    sandbox: { dialect: 'RFC', data: join(ROOT, 'samples/directory.json'), token: 'sandbox-token' },
    env: (sb) => ({ SCIM_SERVER: sb.url, SCIM_TOKEN: 'sandbox-token' }),
  },
  salesforce: {
    pipeline: join(ROOT, 'pipelines/salesforce.yaml'),
    fulfillPipeline: join(ROOT, 'pipelines/salesforce.yaml'),
    identifier: 'SalesforceExport',
    sandbox: { dialect: 'Salesforce', oauth: SF_OAUTH, data: join(ROOT, 'samples/directory.salesforce.json') },
    env: (sb) => ({
      SF_SERVER: sb.url,
      SF_TOKEN_URL: `${sb.url}/oauth2/token`,
      SF_CLIENT_ID: SF_OAUTH.clientId,
      SF_CLIENT_SECRET: SF_OAUTH.clientSecret,
      SF_LOGIN: SF_OAUTH.login,
      SF_PASSWORD: SF_OAUTH.password,
    }),
  },
  slack: {
    pipeline: join(ROOT, 'pipelines/slack.yaml'),
    fulfillPipeline: join(ROOT, 'pipelines/slack.yaml'),
    identifier: 'SlackExport',
    sandbox: { dialect: 'Slack', data: join(ROOT, 'samples/directory.slack.json'), token: 'xoxp-slack-test' },
    env: (sb) => ({ SLACK_SCIM_SERVER: sb.url, SLACK_TOKEN: 'xoxp-slack-test' }),
  },
  cyberark: {
    pipeline: join(ROOT, 'pipelines/cyberark.yaml'),
    fulfillPipeline: join(ROOT, 'pipelines/cyberark.yaml'),
    identifier: 'CyberArkExport',
    sandbox: { dialect: 'CyberArk', oauth: CA_OAUTH, data: join(ROOT, 'samples/directory.cyberark.json') },
    env: (sb) => ({ CYBERARK_SERVER: `${sb.url}/scim`, CYBERARK_APP_ID: CA_OAUTH.clientId, CYBERARK_LOGIN: CA_OAUTH.login, CYBERARK_PASSWORD: CA_OAUTH.password }),
  },
};

export async function startRig(key: DialectKey, extra: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ ...RIGS[key].sandbox, ...extra });
}

/** Per test: a temp dir and a sandbox slot, cleaned after it (test/helpers/per-test.ts). */
export const perTestRig = () => perTestSandbox('scim-etl-dialect-');
