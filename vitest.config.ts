import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
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
