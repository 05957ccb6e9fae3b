// One audit INSERT binds 13 values per row; the chunk follows each dialect's bound-parameter limit.
import { maxAuditRowsPerStatement } from '../../src/db/audit-batch.js';

test('audit rows per statement follow the bound-parameter limit of each dialect', () => {
  expect(maxAuditRowsPerStatement('sqlite')).toBe(Math.floor(32_766 / 13));
  expect(maxAuditRowsPerStatement('postgresql')).toBe(Math.floor(65_535 / 13));
  // The configured maximum batch (10,000) does not fit in one statement on either.
  expect(maxAuditRowsPerStatement('postgresql')).toBeLessThan(10_000);
});
