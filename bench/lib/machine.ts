/** What a benchmark ran on, for the header of its tables: CPU, cores, RAM, kernel, node, load. */
import {cpus, loadavg, release, totalmem} from 'node:os'

export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  return `${cpus().length}× ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, node ${process.version}`
}

/** The 1, 5 and 15 minute load averages, e.g. `7.1 / 9.8 / 10.9`. */
export function loadLine(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ')
}
