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

function testcase(classname: string, check: CheckResult, label: string | null = null): string {
  // A label goes in a property, not the classname: CI servers read the classname's dots as
  // packages (a label may hold some), and a test case keeps its history under classname and name.
  const properties = label === null ? '' : `\n      <properties>\n        <property name="concept_label" value="${escapeXml(label)}"/>\n      </properties>`;
  const open = `    <testcase classname="${escapeXml(classname)}" name="${escapeXml(check.name)}" time="0">${properties}`;
  if (check.status === 'fail') {
    return `${open}\n      <failure message="${escapeXml(check.message)}" type="${escapeXml(check.name)}">${escapeXml(check.message)}</failure>\n    </testcase>`;
  }
  // A warning passes the gate; CI systems show system-out beside the test case.
  if (check.status === 'warn') return `${open}\n      <system-out>warning: ${escapeXml(check.message)}</system-out>\n    </testcase>`;
  return properties ? `${open}\n    </testcase>` : `${open}</testcase>`;
}

/**
 * A JUnit XML report of a validation: one testsuite, one testcase per concept and check
 * (classname `concept.<id>`), failing checks as <failure> with their message, warnings as
 * <system-out>. A concept with a label (`concept_label`, from the database `bkt import` filled)
 * carries it as the test case's property `concept_label`. Held-out checks over all rows appear
 * under classname `overall`.
 */
export function validationToJUnit(
  report: Omit<ValidationReport, 'concepts'> & { concepts: Array<ValidationReport['concepts'][number] & { concept_label?: string | null }> },
  suiteName = 'bkt validate',
): string {
  const cases: string[] = [];
  for (const concept of report.concepts) {
    for (const check of concept.checks) cases.push(testcase(`concept.${concept.concept_id}`, check, concept.concept_label ?? null));
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
