import { expect } from 'chai';
import * as api from '../../lib/index.js';

describe('public API (lib/index.ts)', () => {
  it('exposes the stage factories and commands the README documents', () => {
    for (const name of ['loadPipeline', 'runExport', 'runFulfill', 'startSandbox', 'createScimClient', 'scimListSource', 'membersSource', 'flatten', 'csvTableSink', 'createOrderSource', 'createBulkSink', 'parseFilter', 'parseColumnPath', 'redact', 'run'] as const) {
      expect(api[name], name).to.be.a('function');
    }
  });

  it('parses the same filter the CLI validates', () => {
    expect(api.formatFilter(api.parseFilter('userName sw "a" and active eq true'))).to.equal('(userName sw "a" and active eq true)');
  });
});
