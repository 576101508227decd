import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {memoryLogger} from '../shared/logger.js'
import {ProgressBar, progressAllowed, type ProgressStream} from './progress-bar.js'
import {ProgressLog} from './progress-log.js'

/** A terminal stand-in: records every write and replays `\r` / erase-line like a terminal would. */
class FakeTerminal implements ProgressStream {
  writes: string[] = []
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {}

  write(text: string): boolean {
    this.writes.push(text)
    return true
  }

  get raw(): string {
    return this.writes.join('')
  }

  /** What the screen shows: finished lines plus the current (progress) line. */
  screen(): string[] {
    const lines: string[] = ['']
    const text = this.raw
    for (let i = 0; i < text.length; i++) {
      if (text.startsWith('\r\x1b[2K', i)) {
        lines[lines.length - 1] = ''
        i += 4
      } else if (text[i] === '\r') lines[lines.length - 1] = ''
      else if (text[i] === '\n') lines.push('')
      else lines[lines.length - 1] = lines.at(-1)! + text[i]!
    }
    return lines
  }

  /** Number of times the progress line was (re)drawn. */
  draws(): number {
    return this.writes.filter((w) => w.startsWith('\r\x1b[2K') && w.length > 5).length
  }
}

describe('ProgressBar', () => {
  beforeEach(() => {
    vi.useFakeTimers({now: new Date('2024-05-01T10:00:00Z')})
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('draws one line with label, counts, bytes, rates, time left and elapsed time', () => {
    const term = new FakeTerminal(true, 120)
    const bar = new ProgressBar(term)
    const task = bar.start('alice@example.com INBOX', {messages: 2000})
    vi.advanceTimersByTime(4000)
    task.advance(1200, 12 * 1024 * 1024)
    vi.advanceTimersByTime(100)
    expect(term.screen()).toEqual(['alice@example.com INBOX  1,200/2,000 msgs  12.0 MiB    293 msg/s 2.93 MiB/s  ETA 0:02  0:04'])
    expect(term.raw).not.toContain('\n')
  })

  it('never writes into the last column and shortens long labels in the middle', () => {
    const term = new FakeTerminal(true, 60)
    const bar = new ProgressBar(term)
    const task = bar.start(`someone@example.com ${'Archive/'.repeat(10)}2019`, {messages: 100, bytes: 2048})
    vi.advanceTimersByTime(2000)
    task.advance(50, 1024)
    vi.advanceTimersByTime(100)
    const line = term.screen().at(-1)!
    expect(line.length).toBeLessThanOrEqual(59)
    // The label keeps 16 columns; the bytes made room.
    expect(line).toMatch(/^someone@.*….*2019 +50\/100 msgs +ETA 0:02 +0:02$/)
  })

  it('keeps its layout while the numbers grow (no jitter)', () => {
    const term = new FakeTerminal(true, 100)
    const bar = new ProgressBar(term)
    const task = bar.start('demo@example.test: Archive/2023', {messages: 20_000})
    const layouts = new Set<string>()
    for (let i = 0; i < 40; i++) {
      task.advance(i * 37, i * 40_000)
      vi.advanceTimersByTime(150)
      const line = term.screen().at(-1)!
      expect(line.length).toBeLessThanOrEqual(99)
      layouts.add(line.replace(/[\d,.:]/g, '#').replace(/#+/g, '#').replace(/ +/g, ' ').replace(/(KiB|MiB|B)\b/g, 'U'))
    }
    // One shape while the rates are unknown (the first second), one after.
    expect(layouts.size).toBeLessThanOrEqual(2)
  })

  it('still fits a very narrow terminal', () => {
    const term = new FakeTerminal(true, 20)
    const bar = new ProgressBar(term)
    bar.start('alice@example.com INBOX', {messages: 10}).advance(3)
    expect(term.screen().at(-1)!.length).toBeLessThanOrEqual(19)
  })

  it('redraws at most ten times a second, and shows the latest counters after a burst', () => {
    const term = new FakeTerminal(true)
    const bar = new ProgressBar(term)
    const task = bar.start('INBOX')
    const before = term.draws()
    for (let i = 0; i < 1000; i++) {
      task.advance(1, 100)
      vi.advanceTimersByTime(1) // 1,000 updates within one second
    }
    const drawn = term.draws() - before
    expect(drawn).toBeGreaterThanOrEqual(9)
    expect(drawn).toBeLessThanOrEqual(11)
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toContain('1,000 msgs')
  })

  it('writes log lines above the progress line, never inside it', () => {
    const term = new FakeTerminal(true)
    const bar = new ProgressBar(term)
    const task = bar.start('INBOX', {messages: 10})
    task.advance(3)
    bar.log('2024-05-01T10:00:00.000Z INFO  [INBOX] 10 new messages\n')
    expect(term.screen()).toEqual(['2024-05-01T10:00:00.000Z INFO  [INBOX] 10 new messages', expect.stringMatching(/^INBOX +3\/10 msgs/)])
  })

  it('removes the line when a folder is done and when stopped', () => {
    const term = new FakeTerminal(true)
    const bar = new ProgressBar(term)
    const a = bar.start('INBOX')
    const b = bar.start('Sent')
    expect(term.screen().at(-1)).toMatch(/^Sent .*\(\+1 more\)/)
    b.done()
    expect(term.screen().at(-1)).toMatch(/^INBOX /)
    a.done()
    expect(term.screen()).toEqual([''])
    const c = bar.start('Trash')
    c.advance(1)
    bar.stop()
    expect(term.screen()).toEqual([''])
    c.advance(1)
    bar.log('after\n')
    expect(term.screen()).toEqual(['after', ''])
  })

  it('takes a total set later, and ignores updates after done()', () => {
    const term = new FakeTerminal(true)
    const bar = new ProgressBar(term)
    const task = bar.start('INBOX')
    task.setTotal(40, 4096)
    vi.advanceTimersByTime(150)
    task.advance(10, 1024)
    vi.advanceTimersByTime(100)
    expect(term.screen().at(-1)).toMatch(/^INBOX +10\/40 msgs +1\.00 KiB\/4\.00 KiB +– msg\/s +–\/s +0:00$/)
    task.done()
    const writes = term.writes.length
    task.advance(5)
    task.done()
    vi.advanceTimersByTime(1000)
    expect(term.writes.length).toBe(writes)
  })

  it('replaces control characters of server-supplied names', () => {
    const term = new FakeTerminal(true)
    const bar = new ProgressBar(term)
    bar.start('evil\x1b]0;pwned\x07\rname')
    expect(term.screen().at(-1)).toMatch(/^evil\?\]0;pwned\?\?name /)
  })

  it('writes nothing but the log lines when stderr is not a terminal', () => {
    const term = new FakeTerminal(false)
    const bar = new ProgressBar(term)
    const task = bar.start('INBOX', {messages: 5})
    task.advance(5, 500)
    vi.advanceTimersByTime(1000)
    bar.log('a log line\n')
    task.done()
    bar.stop()
    expect(term.writes).toEqual(['a log line\n'])
  })
})

describe('progressAllowed', () => {
  const tty = {isTTY: true, write: () => true}
  const base = {quiet: false, json: false, logFormat: 'text' as const}

  it('allows a progress line only for a person at a terminal', () => {
    expect(progressAllowed(tty, base)).toBe(true)
    expect(progressAllowed({write: () => true}, base)).toBe(false)
    expect(progressAllowed({isTTY: false, write: () => true}, base)).toBe(false)
    expect(progressAllowed(tty, {...base, quiet: true})).toBe(false)
    expect(progressAllowed(tty, {...base, json: true})).toBe(false)
    expect(progressAllowed(tty, {...base, logFormat: 'json'})).toBe(false)
  })
})

describe('ProgressBar: the whole run', () => {
  beforeEach(() => {
    vi.useFakeTimers({now: new Date('2024-05-01T10:00:00Z')})
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('shows account and folder positions, and messages of every folder so far', () => {
    const term = new FakeTerminal(true, 160)
    const bar = new ProgressBar(term)
    bar.expect('account', 2)
    bar.begin('account', 'alice@example.com')
    bar.expect('folder', 2)
    bar.begin('folder', 'INBOX')
    const inbox = bar.start('alice@example.com: INBOX', {messages: 10})
    inbox.advance(10, 10_240)
    inbox.done()
    bar.end('folder')
    // Between folders the line stays, naming the account.
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toMatch(/^alice@example\.com +1\/2 accounts +10\/10 msgs +10\.0 KiB/)
    bar.begin('folder', 'Sent')
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toMatch(/^alice@example\.com: Sent +1\/2 accounts 2\/2 folders +10\/10 msgs/)
    const sent = bar.start('alice@example.com: Sent', {messages: 30})
    sent.advance(5, 5120)
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toMatch(/^alice@example\.com: Sent +1\/2 accounts 2\/2 folders +15\/40 msgs +15\.0 KiB/)
    sent.done()
    bar.end('folder')
    bar.end('account')
    bar.begin('account', 'bob@example.com')
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toMatch(/^bob@example\.com +2\/2 accounts +15\/15 msgs/)
    bar.end('account')
    vi.advanceTimersByTime(200)
    expect(term.screen()).toEqual([''])
  })

  it('moves during a big message: bytes as they arrive, and the clock every second without any report', () => {
    const term = new FakeTerminal(true, 120)
    const bar = new ProgressBar(term)
    const task = bar.start('alice@example.com: INBOX', {messages: 1, bytes: 20 * 1024 * 1024})
    const shown: string[] = []
    for (let second = 1; second <= 15; second++) {
      if (second <= 10) task.advance(0, 2 * 1024 * 1024) // a chunk a second for ten seconds
      vi.advanceTimersByTime(1000)
      shown.push(term.screen().at(-1)!)
    }
    // Every second the line is different: bytes while they come, then the clock.
    expect(new Set(shown).size).toBe(15)
    expect(shown[4]).toMatch(/0\/1 msgs +10\.0 MiB\/20\.0 MiB +0\.0 msg\/s +2\.00 MiB\/s +ETA 0:05 +0:05$/)
    expect(shown[14]).toMatch(/0\/1 msgs +20\.0 MiB\/20\.0 MiB .* 0:15$/)
    task.advance(1, 0)
    vi.advanceTimersByTime(200)
    expect(term.screen().at(-1)).toMatch(/1\/1 msgs +20\.0 MiB\/20\.0 MiB/)
  })
})

describe('ProgressLog', () => {
  beforeEach(() => {
    vi.useFakeTimers({now: new Date('2024-05-01T10:00:00Z')})
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('logs a progress line at INFO every interval while the run is under way, and none after stop()', () => {
    const logger = memoryLogger()
    const progress = new ProgressLog(logger, 30)
    progress.expect('account', 1)
    progress.begin('account', 'alice@example.com')
    progress.expect('folder', 2)
    progress.begin('folder', 'INBOX')
    const task = progress.start('alice@example.com: INBOX', {messages: 100})
    vi.advanceTimersByTime(29_000)
    expect(logger.records).toEqual([])
    task.advance(60, 60 * 1024)
    vi.advanceTimersByTime(1000)
    expect(logger.records).toEqual([
      {level: 'info', message: 'progress: alice@example.com: INBOX, folder 1 of 2, 60 of 100 messages, 60.0 KiB, 2.0 msg/s, 2.00 KiB/s, about 0:20 left, 0:30 so far', fields: {}},
    ])
    progress.stop()
    vi.advanceTimersByTime(120_000)
    expect(logger.records).toHaveLength(1)
  })

  it('gives the numbers as fields for JSON logs; interval 0 logs nothing', () => {
    const logger = memoryLogger()
    const progress = new ProgressLog(logger, 10, {fields: true})
    const task = progress.start('INBOX', {messages: 4, bytes: 4000})
    task.advance(1, 1000)
    vi.advanceTimersByTime(10_000)
    expect(logger.records[0]!.fields).toEqual({messages: 1, bytes: 1000, seconds: 10, messagesTotal: 4, bytesTotal: 4000, messagesPerSecond: 0.1, bytesPerSecond: 100, etaSeconds: 30})
    const silent = memoryLogger()
    new ProgressLog(silent, 0).start('INBOX').advance(1)
    vi.advanceTimersByTime(100_000)
    expect(silent.records).toEqual([])
  })
})
