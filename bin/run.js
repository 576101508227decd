#!/usr/bin/env node
// Entry point. `--version` anywhere on the command line prints the version and exits, as
// imap-backup does; it is answered before oclif loads so that it stays instant.
import {readFileSync} from 'node:fs'

const argv = process.argv.slice(2)
const readPackage = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
if (argv.includes('--version')) {
  process.stdout.write(`mailkeep ${readPackage().version}\n`)
  process.exit(0)
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
