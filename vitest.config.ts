import {defineConfig} from 'vitest/config'
import {isStubbed, stubSource} from './scripts/imapflow-stubs.mjs'

const STUB = '\0mailkeep-stub:'

export default defineConfig({
  // The modules imapflow imports and mailkeep never uses are stubs in the bundle; the tests get
  // the same stubs (scripts/imapflow-stubs.mjs), so that they run the imapflow the users run.
  // imapflow is therefore transformed by vitest (server.deps.inline), not loaded by Node.
  plugins: [
    {
      name: 'mailkeep-imapflow-stubs',
      enforce: 'pre',
      resolveId: (source, importer) => (isStubbed(source, importer) ? `${STUB}${source}` : null),
      load: (id) => (id.startsWith(STUB) ? stubSource(id.slice(STUB.length)) : null),
    },
  ],
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    server: {deps: {inline: ['imapflow']}},
    // Separate processes: tests send signals, take flock locks and start servers.
    pool: 'forks',
    // Generous: CLI kill tests run many whole processes on a 2-core machine; a hung test still fails.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Each test file starts its own private Dovecot on free ports; two at a time fits 2 cores.
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
    // The JSON report feeds the "N passed, N failed" line of .ci/run.
    reporters: ['default', ['json', {outputFile: '.vitest-report.json'}]],
  },
})
