// How the user started charrnn, for hints that name a command to run next: `npx charrnn ...`
// when npx ran it (npm sets npm_command=exec for npx and `npm exec`), else `charrnn ...`
// (installed with npm install -g or npm link, or bin/charrnn).

export function cliName(env: NodeJS.ProcessEnv = process.env): string {
  return env.npm_command === 'exec' ? 'npx charrnn' : 'charrnn';
}
