import { formatWithOptions } from 'node:util';
import createDebug from 'debug';
import { redactConnectionString } from '../errors.js';

/** The Logger shape oclif accepts in `loadOptions.logger` (its own interface, structurally). */
export interface OclifLogger {
  child(namespace: string, delimiter?: string): OclifLogger;
  debug(formatter: unknown, ...args: unknown[]): void;
  error(formatter: unknown, ...args: unknown[]): void;
  info(formatter: unknown, ...args: unknown[]): void;
  trace(formatter: unknown, ...args: unknown[]): void;
  warn(formatter: unknown, ...args: unknown[]): void;
  namespace: string;
}

/**
 * oclif's debug logger (the `debug` package, enabled by `DEBUG=*`) with every message passed
 * through redactConnectionString: oclif logs the whole argv (`--db postgres://u:pw@...`) at
 * startup, before any command code runs. Messages are formatted first, then redacted, so a
 * password inside an object argument (`%O`) is caught too.
 */
export function redactingLogger(namespace = 'oclif'): OclifLogger {
  const out = createDebug(namespace);
  const log =
    (target: createDebug.Debugger) =>
    (formatter: unknown, ...args: unknown[]): void => {
      if (!target.enabled) return;
      target('%s', redactConnectionString(formatWithOptions({ colors: false, depth: 4 }, formatter, ...args)));
    };
  const debug = log(out);
  return {
    child: (ns, delimiter) => redactingLogger(`${namespace}${delimiter ?? ':'}${ns}`),
    debug,
    error: log(createDebug(`${namespace}:error`)),
    info: debug,
    trace: debug,
    warn: debug,
    namespace,
  };
}
