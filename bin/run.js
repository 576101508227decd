#!/usr/bin/env node
// Entry point. `--version` anywhere on the command line prints the version and exits, as
// imap-backup does; it is answered before oclif loads so that it stays instant.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
if (argv.includes('--version')) {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`mailkeep ${pkg.version}\n`)
  process.exit(0)
}

const {run} = await import('../dist/cli/main.js')
await run(argv)
