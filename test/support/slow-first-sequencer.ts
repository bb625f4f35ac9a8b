/**
 * The order in which vitest hands test files to its workers: the known-slow files first, then
 * vitest's own order. Without a results cache (a fresh clone, as CI is) vitest starts the largest
 * files first, and size says little here: export-1m is 60 lines and the longest file of the run, so
 * it started last on an idle full run and ran alone for its last seconds while the short files
 * had already been spread over the other workers. A slow file started early overlaps with the
 * many short ones, which then fill the workers evenly to the end. A file missing from the list
 * only runs in vitest's order; one listed that no longer exists is ignored.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Test files of 20 s or more on an idle full run (three workers on two cores), slowest first. */
export const SLOW_TEST_FILES = [
  'test/cli/export-1m.test.ts',
  'test/docs/guides.test.ts',
  'test/cli/labels-outputs.test.ts',
  'test/cli/recompute-flow-sqlite.test.ts',
  'test/cli/recompute-flow-postgres.test.ts',
  'test/model/variants/pybkt-variants-reference.test.ts',
  'test/cli/update.test.ts',
  'test/cli/fit-variants.test.ts',
  'test/cli/fit-db.test.ts',
  'test/cli/predict.test.ts',
  'test/cli/update-rebuild.test.ts',
  'test/cli/validate.test.ts',
  'test/cli/output.test.ts',
];

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rest = await super.sort(files);
    const rank = (file: TestSpecification) => SLOW_TEST_FILES.indexOf(relativePath(file));
    const slow = files.filter((file) => rank(file) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...slow, ...rest.filter((file) => rank(file) < 0)];
  }
}

function relativePath(file: TestSpecification): string {
  const root = file.project.config.root.replace(/\/?$/, '/');
  return file.moduleId.startsWith(root) ? file.moduleId.slice(root.length) : file.moduleId;
}
