import { Flags } from '@oclif/core';
import { BktCommand } from '../../src/cli/base-command.js';
import { conceptIdFlag, dbFlag, tableFlags } from '../../src/cli/flags.js';

export default class ParamsList extends BktCommand {
  static override summary = 'List fitted parameter sets: the active ones, or every one with --all.';

  static override description = `Rows of bkt_skill_params, ordered by concept and newest fit first. Without --all only active rows are shown (one per concept), with how many inactive ones --all would add. Concept ids are the stored UUIDs or the ids of the imported file. Use an id with "bkt params activate" to roll a concept back.`;

  static override usage = ['params list [--concept-id ID...] [--all] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> params list',
    '<%= config.bin %> params list --concept-id 00000000-0000-0000-0000-000000000007 --all --json',
  ];

  static override flags = {
    db: dbFlag,
    'concept-id': conceptIdFlag(),
    ...tableFlags,
    all: Flags.boolean({ summary: 'Include inactive (past) parameter sets, and print every row.', default: false, helpGroup: 'OUTPUT' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(ParamsList);
    const { listParams } = await import('../../src/jobs/db-admin.js');
    const result = await listParams({ db: flags.db, conceptIds: flags['concept-id'] ?? [], all: flags.all });
    if (!this.jsonEnabled()) {
      const { renderParamsList } = await import('../../src/cli/render-store.js');
      this.log(await renderParamsList(result, flags));
    }
    return result;
  }
}
