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

  it('gives each test case of a labelled concept the label as a property, escaped, the classname keeping the id', () => {
    const labelled = validationToJUnit({ ...report, concepts: [{ ...report.concepts[0], concept_label: 'Ch. 3 <fractions> & "more"' }, { ...report.concepts[1], concept_label: null }] });
    expect(() => assertWellFormedXml(labelled)).not.toThrow();
    const property = '<property name="concept_label" value="Ch. 3 &lt;fractions&gt; &amp; &quot;more&quot;"/>';
    expect(labelled.split(property).length - 1).toBe(report.concepts[0].checks.length);
    expect(labelled).toContain(`<testcase classname="concept.good" name="validity" time="0">\n      <properties>\n        ${property}\n      </properties>\n    </testcase>`);
    // The concept without a label, and the report without labels, have no properties at all.
    expect(labelled.match(/<properties>/g)).toHaveLength(report.concepts[0].checks.length);
    expect(xml).not.toContain('<properties>');
  });

  it('the checker itself rejects broken XML', () => {
    expect(() => assertWellFormedXml('<a><b></a></b>')).toThrow();
    expect(() => assertWellFormedXml('<a>x & y</a>')).toThrow();
  });
});
