/** Salesforce-style mixed-case ids: the id order of filtered lists agrees with `id gt`, so keyset paging misses nothing. */
import { expect } from 'chai';
import { startSandbox } from '../../lib/sandbox/index.js';

describe('sandbox id order (Salesforce dialect)', () => {
  it('orders filtered lists case-exactly by id, as id gt compares them', async () => {
    const ids = ['005b0000000aAAA', '005B0000000zAAA', '005a0000000MAAA', '005A0000000bAAA'];
    const sb = await startSandbox({
      dialect: 'Salesforce',
      data: { Users: ids.map((id, i) => ({ id, userName: `u${i}@example.com`, active: true })) },
    });
    try {
      const get = async (filter: string) => {
        const r = await fetch(`${sb.url}/v2/Users?filter=${encodeURIComponent(filter)}&count=2&attributes=id`);
        return ((await r.json()) as { Resources: Array<{ id: string }> }).Resources.map((u) => u.id);
      };
      const first = await get('id pr');
      const second = await get(`id gt "${first[1]}"`);
      expect([...first, ...second]).to.deep.equal([...ids].sort());
    } finally {
      await sb.stop();
    }
  });
});
