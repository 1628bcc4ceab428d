// Argument parsers for commander: each names the flag, the expected and the actual value, and
// throws commander's InvalidArgumentError, which main() turns into one line on stderr.

import { InvalidArgumentError, type Command } from '@commander-js/extra-typings';

export function intArg(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} expects an integer ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `>= ${min}`}, got "${v}".`);
    }
    return n;
  };
}

export function floatArg(flag: string, lo: number, hi: number, range: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) {
      throw new InvalidArgumentError(`${flag} expects a number ${range}, got "${v}".`);
    }
    return n;
  };
}

export function choice<T extends string>(flag: string, choices: readonly T[]) {
  return (v: string): T => {
    if (!choices.includes(v as T)) throw new InvalidArgumentError(`${flag} expects one of ${choices.join(', ')}, got "${v}".`);
    return v as T;
  };
}

/** 90, 90s, 10m, 1.5h, 1h30m -> seconds. */
export function parseDuration(v: string): number {
  const s = v.trim();
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)\s*(h|m|s)?/g)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined.replace(/\s/g, '') !== s.replace(/\s/g, '')) {
    throw new InvalidArgumentError(`--time expects a duration like 90s, 10m, 1h30m, got "${v}".`);
  }
  let sec = 0;
  for (const p of parts) sec += Number(p[1]) * (p[2] === 'h' ? 3600 : p[2] === 'm' ? 60 : 1);
  if (!(sec > 0)) throw new InvalidArgumentError(`--time expects a positive duration, got "${v}".`);
  return sec;
}

/** --stop, repeatable: collects the non-empty values in order. */
export function stopArg(v: string, prev: string[] | undefined): string[] {
  if (v === '') throw new InvalidArgumentError('--stop expects a non-empty string, got "".');
  return [...(prev ?? []), v];
}

/** Names (attribute names) of the options the user actually gave, not defaults. */
export function explicitOptions(cmd: Pick<Command, 'options' | 'getOptionValueSource'>): Set<string> {
  const out = new Set<string>();
  for (const o of cmd.options) {
    const key = o.attributeName();
    if (cmd.getOptionValueSource(key as never) === 'cli') out.add(key);
  }
  return out;
}
