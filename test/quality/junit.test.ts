import { describe, expect, it } from 'vitest';
import { escapeXml, validationToJUnit } from '../../src/quality/junit.js';
import { validateParams } from '../../src/quality/validate.js';
import { assertWellFormedXml } from './xml-check.js';

describe('escapeXml', () => {
  it('escapes the five XML specials and drops control characters', () => {
    expect(escapeXml(`a<b>&"c'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});

describe('validationToJUnit', () => {
  const report = validateParams([
    { concept_id: 'good', params: { p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0 } },
    { concept_id: 'bad <&> "one"', params: { p_L0: 0.3, p_T: 0.1, p_S: 0.6, p_G: 0.5, p_F: 0 } },
  ]);
  const xml = validationToJUnit(report);

  it('is well formed, with ids and messages escaped', () => {
    expect(() => assertWellFormedXml(xml)).not.toThrow();
    expect(xml).toContain('classname="concept.bad &lt;&amp;&gt; &quot;one&quot;"');
  });

  it('has one testcase per concept and check, failures carrying their message', () => {
    const cases = xml.match(/<testcase /g) ?? [];
    expect(cases.length).toBe(report.concepts[0].checks.length + report.concepts[1].checks.length);
    expect((xml.match(/<failure /g) ?? []).length).toBe(5);
    expect(xml).toMatch(/<testsuite name="bkt validate" tests="16" failures="5"/);
    expect(xml).toContain('<failure message="S + G = 1.1000 is not &lt; 1; 1 - S = 0.4000 is not &gt; G = 0.5000" type="validity">');
  });

  it('the checker itself rejects broken XML', () => {
    expect(() => assertWellFormedXml('<a><b></a></b>')).toThrow();
    expect(() => assertWellFormedXml('<a>x & y</a>')).toThrow();
  });
});
