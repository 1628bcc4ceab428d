// The README is a contract too: it opens with the two commands, and its flag tables are the
// ones the CLI's option definitions produce (the same ones --help prints).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

describe("README's layout table", () => {
  const ROOT = join(__dirname, '..');
  const table = readme.slice(readme.indexOf('\nLayout'), readme.indexOf('\n\n', readme.indexOf('| folder |')));
  const rows = table.split('\n').filter((l) => l.startsWith('| `'));

  it('names only folders and files that exist, and every folder of src/', () => {
    const named: string[] = [];
    for (const row of rows) {
      const first = row.split('|')[1];
      for (const m of first.matchAll(/`([^`]+)`/g)) named.push(m[1]);
    }
    for (const p of named) expect(existsSync(join(ROOT, p)), `${p} is in the layout table but not in the tree`).toBe(true);
    const folders = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `src/${d.name}/`);
    for (const f of folders) expect(named, `${f} is missing from the layout table`).toContain(f);
  });

  it('lists every file of assembly/', () => {
    const row = rows.find((r) => r.startsWith('| `assembly/`'))!;
    for (const f of readdirSync(join(ROOT, 'assembly')).filter((f) => f.endsWith('.ts'))) expect(row).toContain(`\`${f}\``);
  });
});
