/**
 * src/ names options by their path in its options objects, in backticks (`maxIterations`,
 * `columns.user`, `thresholds.minAuc`), so a library caller reads the name it passed. On the
 * command line the same thing is a flag; this is the one map between the two.
 */

/** Option paths whose flag is not the kebab-case of their last segment. */
const OPTION_FLAGS: Readonly<Record<string, string>> = {
  'columns.user': '--col-user',
  'columns.concept': '--col-concept',
  'columns.correct': '--col-correct',
  'columns.time': '--col-time',
  'columns.order': '--col-order',
  'columns.question': '--col-question',
  'columns.key': '--col-key',
  conceptId: '--concept-id',
  conceptIds: '--concept-id',
  userId: '--user',
  userIdFilter: '--user',
  questionId: '--question',
  sessionId: '--session',
  asUser: '--as-user',
  crossValidationFolds: '--cv',
  minAttemptsPerUser: '--min-attempts-per-user',
  'bounds.L0_min': '--L0-min',
  'bounds.L0_max': '--L0-max',
  'bounds.T_min': '--T-min',
  'bounds.T_max': '--T-max',
  'bounds.S_min': '--S-min',
  'bounds.S_max': '--S-max',
  'bounds.G_min': '--G-min',
  'bounds.G_max': '--G-max',
  fixed: '--fix',
  fixedByConcept: '--fix-from',
  dataFrom: '--from-date',
  dataTo: '--to-date',
  answeredAt: '--at',
  jwtSecret: 'the JWT secret (BKT_JWT_SECRET or --jwt-secret-file)',
  serviceToken: 'BKT_SERVICE_TOKEN',
  recomputeWaitMs: '--recompute-wait',
  shutdownTimeoutMs: '--shutdown-timeout',
};

/** The flag for an option path: the table above, else `--` and the kebab-case of the last segment. */
export function flagForOption(path: string): string {
  const known = OPTION_FLAGS[path];
  if (known) return known;
  const withoutIndex = path.replace(/\.\d+$/, '');
  if (OPTION_FLAGS[withoutIndex]) return OPTION_FLAGS[withoutIndex];
  if (withoutIndex.startsWith('fixed.')) return '--fix';
  const last = withoutIndex.split('.').pop() ?? withoutIndex;
  return `--${last.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** `text` with every backticked option path (`maxIterations`) replaced by its flag (--max-iterations). */
export function optionPathsToFlags(text: string): string {
  return text.replace(/`([A-Za-z_][\w]*(?:\.[\w]+)*)`/g, (_, path: string) => flagForOption(path));
}
