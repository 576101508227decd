// Prints the last line CI looks for: "N passed, N failed", from vitest's JSON report.
// A missing or unreadable report (vitest never ran, e.g. the build or lint failed) counts as one
// failure, so the line never claims success that did not happen.
import {readFileSync} from 'node:fs'

const file = process.argv[2] ?? '.vitest-report.json'
let passed = 0
let failed = 1
try {
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed = report.numPassedTests ?? 0
  failed = (report.numFailedTests ?? 0) + (report.success === false && (report.numFailedTests ?? 0) === 0 ? 1 : 0)
} catch {
  // keep the defaults
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
