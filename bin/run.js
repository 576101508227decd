#!/usr/bin/env node
// Entry point. `--version` anywhere on the command line prints the version and exits, as
// imap-backup does; it is answered before oclif loads so that it stays instant.
import {readFileSync} from 'node:fs'
import {setFlagsFromString} from 'node:v8'

const argv = process.argv.slice(2)
const readPackage = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
if (argv.includes('--version')) {
  process.stdout.write(`mailkeep ${readPackage().version}\n`)
  process.exit(0)
}

// Garbage-collector settings for a small footprint on a Raspberry Pi (docs/performance.md,
// "Memory"). With V8's defaults a backup of one big folder lets the young generation grow to
// 2 × 16 MiB and the old one to about three times what is live before collecting, so peak RSS
// follows the garbage (a bare imapflow download loop included), not the data: 290 MiB for a
// first backup of 162,755 small messages. A young generation that stays at its initial size
// and an old one that is collected after 30 % growth cost little time (measured in
// bench/backup.ts, side by side). Both flags are read by V8 whenever it sizes a space, so they
// work when set here; a setting of the user's own (node option or NODE_OPTIONS) wins.
for (const flag of ['--semi-space-growth-factor=1', '--heap-growing-percent=30']) {
  const name = flag.slice(0, flag.indexOf('='))
  const own = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => arg.startsWith(name) || arg.startsWith(name.replaceAll('-', '_').replace(/^__/, '--')))
  if (!own) setFlagsFromString(flag)
}

// The bundle that `npm run build` makes (scripts/build-bundle.mjs, docs/performance.md): one
// small entry that loads only the command being run. A build by tsc alone (dist/cli) is used
// when there is no bundle, as long as package.json still points oclif at it.
let main
try {
  main = await import('../dist/bundle/mailkeep.js')
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/bundle/mailkeep.js')) throw error
  if (String(readPackage().oclif?.commands ?? '').includes('dist/bundle')) {
    process.stderr.write('mailkeep: dist/bundle/mailkeep.js is missing: run `npm run build` first\n')
    process.exit(70) // ExitCode.INTERNAL: the installation is broken, not the user's input
  }
  main = await import('../dist/cli/main.js')
}
await main.run(argv)
