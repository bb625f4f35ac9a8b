import type { CheckResult, ValidationReport } from './validate.js';

/** Escape text for XML attribute values and character data; drops characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function testcase(classname: string, check: CheckResult): string {
  const open = `    <testcase classname="${escapeXml(classname)}" name="${escapeXml(check.name)}" time="0">`;
  if (check.status === 'fail') {
    return `${open}\n      <failure message="${escapeXml(check.message)}" type="${escapeXml(check.name)}">${escapeXml(check.message)}</failure>\n    </testcase>`;
  }
  // A warning passes the gate; CI systems show system-out beside the test case.
  if (check.status === 'warn') return `${open}\n      <system-out>warning: ${escapeXml(check.message)}</system-out>\n    </testcase>`;
  return `${open}</testcase>`;
}

/**
 * A JUnit XML report of a validation: one testsuite, one testcase per concept and check
 * (classname `concept.<id>`), failing checks as <failure> with their message, warnings as
 * <system-out>. Held-out checks over all rows appear under classname `overall`.
 */
export function validationToJUnit(report: ValidationReport, suiteName = 'bkt validate'): string {
  const cases: string[] = [];
  for (const concept of report.concepts) {
    for (const check of concept.checks) cases.push(testcase(`concept.${concept.concept_id}`, check));
  }
  for (const check of report.overall?.checks ?? []) cases.push(testcase('overall', check));
  const tests = cases.length;
  const failures = report.summary.failures.length;
  const attrs = `name="${escapeXml(suiteName)}" tests="${tests}" failures="${failures}" errors="0" skipped="0"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites ${attrs}>`,
    `  <testsuite ${attrs}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}


