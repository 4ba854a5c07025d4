/** The error a promise rejects with; fails the test when it resolves instead. */
export async function rejects(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}
