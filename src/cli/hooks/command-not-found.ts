import { type Hook, toConfiguredId } from '@oclif/core';
import { EXIT_CODES } from '../../errors.js';
import { closestName } from '../suggest.js';

/**
 * `bkt fitt`: at an interactive terminal, @oclif/plugin-not-found asks "Did you mean fit?" and runs
 * it on yes; elsewhere (scripts, CI, pipes) one line names the closest command, exit 2 (usage).
 */
const hook: Hook<'command_not_found'> = async function (options) {
  if (process.stdin.isTTY && process.stderr.isTTY && !process.env.CI) {
    const { default: notFound } = await import('@oclif/plugin-not-found');
    return notFound.call(this, options);
  }
  const config = options.config;
  const ids = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const typed = toConfiguredId(options.id, config);
  const suggestion = closestName(options.id, ids);
  const hint = suggestion ? `Did you mean "${config.bin} ${toConfiguredId(suggestion, config)}"? ` : '';
  process.stderr.write(`Error: "${typed}" is not a ${config.bin} command. ${hint}Run "${config.bin} help" for the list of commands\n`);
  return this.exit(EXIT_CODES.usage);
};

export default hook;
