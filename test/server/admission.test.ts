import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/server/admission.js';

describe('Admission', () => {
  it('bounds each address, frees a slot on release, and keeps the last slots for addresses holding few', () => {
    const admission = new Admission({ maxConnections: 160, maxPerAddress: 100 });
    let a = 0;
    while (admission.admit('a')) a++;
    expect(a).toBe(100);
    admission.release('a');
    expect(admission.admit('a')).toBe(true);
    let b = 0;
    while (admission.admit('b')) b++;
    // 160 slots, the last 160/16 = 10 reserved: b stops at 150 in all.
    expect(b).toBe(50);
    for (let i = 0; i < 4; i++) expect(admission.admit('keda')).toBe(true);
    expect(admission.admit('keda')).toBe(false);
    let others = 0;
    while (admission.admit(`peer-${others}`)) others++;
    expect(others).toBe(6);
    expect(admission.admit('late')).toBe(false);
    admission.release('b');
    expect(admission.admit('late')).toBe(true);
  });
});
