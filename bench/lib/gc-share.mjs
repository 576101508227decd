// Preloaded (`node --import bench/lib/gc-share.mjs …`) into one extra run of a measured process: sums
// the pauses the garbage collector makes on the main thread (PerformanceObserver 'gc' entries,
// scavenges and the main-thread part of full collections) and prints `GC_MS=<n>` on stderr at
// exit. bench/backup.ts divides it by the process's CPU time: "CPU spent in GC".
import {PerformanceObserver} from 'node:perf_hooks'

let total = 0
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) total += entry.duration
})
observer.observe({entryTypes: ['gc']})
process.on('exit', () => {
  for (const entry of observer.takeRecords()) total += entry.duration
  observer.disconnect()
  process.stderr.write(`GC_MS=${total.toFixed(1)}\n`)
})
