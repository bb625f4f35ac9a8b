import type { BktParams } from '../params.js';
import { type QualityFinding, type QualityThresholds, checkParameterQuality } from '../quality.js';
import type { VariantModel } from './variant-model.js';

/**
 * schema.md's quality rules applied to the concept-level parameters and to every class (each
 * class's parameters with the concept-level values for the rest). Class findings are grouped
 * per (variant, rule): one finding says how many classes break the rule and shows the first.
 */
export function checkVariantQuality(
  params: BktParams,
  model: VariantModel,
  thresholds: QualityThresholds,
): { valid: boolean; degenerate: boolean; findings: QualityFinding[] } {
  const findings = [...checkParameterQuality(params, thresholds).findings];
  const groups = new Map<string, { finding: QualityFinding; count: number; total: number; first: string }>();
  const check = (variant: string, total: number, id: string, classParams: BktParams) => {
    for (const finding of checkParameterQuality(classParams, thresholds).findings) {
      const key = `${variant}:${finding.rule}`;
      const group = groups.get(key);
      if (group) group.count++;
      else groups.set(key, { finding, count: 1, total, first: id });
    }
  };
  model.gs?.forEach((e) => check('multigs', model.gs!.length, e.id, { ...params, p_G: e.p_G, p_S: e.p_S }));
  model.learn?.forEach((e) => check('multilearn', model.learn!.length, e.id, { ...params, p_T: e.p_T, p_F: e.p_F }));
  model.pair?.forEach((e) =>
    check('multipair', model.pair!.length, e.previous === null ? '(first step)' : `${e.previous} -> ${e.current}`, { ...params, p_T: e.p_T, p_F: e.p_F }),
  );
  model.prior?.forEach((e) => check('multiprior', model.prior!.length, e.id, { ...params, p_L0: e.p_L0 }));
  for (const [key, group] of groups) {
    const variant = key.slice(0, key.indexOf(':'));
    findings.push({
      rule: `${variant}_${group.finding.rule}`,
      kind: group.finding.kind,
      message: `${variant}: ${group.count} of ${group.total} classes, e.g. class ${JSON.stringify(group.first)}: ${group.finding.message}`,
    });
  }
  return {
    valid: !findings.some((f) => f.kind === 'invalid'),
    degenerate: findings.some((f) => f.kind === 'degenerate'),
    findings,
  };
}
