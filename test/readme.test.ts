// The README is a contract too: it opens with the two commands, and its flag tables are the
// ones the CLI's option definitions produce (the same ones --help prints).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, flagTables } from '../src/cli';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('opens with the install-and-train command and the install-and-test command', () => {
    const firstBlock = readme.match(/```sh\n([\s\S]*?)```/)![1].trim().split('\n');
    expect(firstBlock).toEqual(['npm install && npx charrnn train', 'npm install && npm test']);
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('\n## '));
  });

  it('has the flag tables the CLI generates (run npm run docs after changing a flag)', () => {
    const begin = readme.indexOf('<!-- flags:begin');
    const end = readme.indexOf('<!-- flags:end -->');
    expect(begin).toBeGreaterThan(0);
    const section = readme.slice(readme.indexOf('\n', begin) + 1, end).trim();
    expect(section).toBe(flagTables().trim());
  });

  it('every flag of every subcommand appears in --help with the same default', () => {
    for (const cmd of buildProgram().commands) {
      const help = cmd.helpInformation().replace(/\s+/g, ' '); // help wraps long lines
      for (const o of cmd.options) {
        expect(help, `${cmd.name()} ${o.flags}`).toContain(o.flags);
        if (o.defaultValue !== undefined && !o.negate && o.defaultValue !== '') {
          expect(help, `${cmd.name()} ${o.flags} default`).toContain(`(default: ${JSON.stringify(o.defaultValue)})`);
        }
      }
    }
  });
});
