import { Args } from '@oclif/core';
import { BktCommand } from '../../src/cli/base-command.js';
import { dbFlag } from '../../src/cli/flags.js';

export default class ParamsActivate extends BktCommand {
  static override summary = "Make a parameter set its concept's only active one (roll back or forward).";

  static override description = `In one transaction: deactivates every active bkt_skill_params row of the set's concept and activates the given one. Safe against a concurrent activation of the same concept. Exit 4 when the id does not exist.`;

  static override usage = ['params activate PARAMS-ID [--db URL]'];

  static override examples = ['<%= config.bin %> params activate 6d0f3c1e-8a4b-4e0a-9d55-0c1c2b3a4d5e'];

  static override args = {
    'params-id': Args.string({ description: 'id of the bkt_skill_params row (see "bkt params list --all")', required: true }),
  };

  static override flags = { db: dbFlag };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(ParamsActivate);
    const { activateParams } = await import('../../src/jobs/db-admin.js');
    const result = await activateParams({ db: flags.db, paramsId: args['params-id'] });
    if (!this.jsonEnabled()) {
      const was = result.previous_active.length ? ` (was ${result.previous_active.join(', ')})` : '';
      this.log(`concept ${result.params.concept_id}: active parameters are now ${result.params.id}${was}`);
    }
    return result;
  }
}
