// The one way messages list characters outside a vocabulary (prime errors and warnings, eval,
// stop strings, a corpus against a checkpoint's vocabulary): escaped, with the code point, a
// count when more than one, at most eight, then how many more.

import { describe, expect, it } from 'vitest';
import { countUnknown, describeChar, describeUnknown, Vocab } from '../src/data/corpus';

describe('describeUnknown', () => {
  it('names each character with its code point, counts repeats, keeps the order of the map', () => {
    const { unknown } = new Vocab([0x61]).encode('a€b€€🙂\n');
    expect(describeUnknown(unknown)).toBe("'€' (U+20AC) x3, 'b' (U+0062), '🙂' (U+1F642), '\\n' (U+000A)");
    expect(countUnknown(unknown)).toBe(6);
  });

  it('shows at most eight, then "and N more"', () => {
    const unknown = new Map(Array.from({ length: 11 }, (_, i) => [0x41 + i, 1] as [number, number]));
    const s = describeUnknown(unknown);
    expect(s.split(', ')).toHaveLength(9);
    expect(s.endsWith(', and 3 more')).toBe(true);
    expect(s.startsWith(describeChar(0x41))).toBe(true);
  });
});
