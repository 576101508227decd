/**
 * The parts of imapflow 2.1.2 (pinned exactly in package.json) that the adapter uses beyond its
 * public API, in one place, behind one cast. We use imapflow for the transport (TLS, STARTTLS,
 * COMPRESS), the greeting, CAPABILITY, LOGIN/AUTHENTICATE, the response parser, literal
 * handling and the command queue, and send the mailbox and message commands ourselves through
 * its `exec()`: its high-level methods prepend the personal namespace prefix to names that lack
 * it, strip a leading delimiter, run an extra LIST before every SELECT, silently drop APPEND
 * flags the *selected* folder does not permit, guess a UID after APPEND without UIDPLUS, and
 * swallow NO answers into `false` (docs/imap.md, "What imapflow does and what we absorb").
 *
 * Anything here must be re-checked when imapflow is upgraded: `exec`, `run`, `commands`,
 * `untaggedHandlers` and the `{response, next}` contract of exec's result (the reader waits for
 * `next()` before it parses the next response, which is also what gives FETCH its
 * backpressure).
 */
import type {ImapFlow, ImapResponse} from 'imapflow'

/** A node the command compiler accepts (imapflow's handler/types `ImapCompileNode`). */
export type WireNode =
  | {type: 'ATOM' | 'STRING' | 'SEQUENCE' | 'LITERAL'; value: string | Buffer; section?: WireNode[]; partial?: number[]; sensitive?: boolean; isLiteral8?: boolean}
  | string
  | WireNode[]

export type UntaggedHandler = (untagged: ImapResponse) => Promise<void> | void

export interface ExecOptions {
  untagged?: Record<string, UntaggedHandler>
  onPlusTag?: (response: ImapResponse) => Promise<void> | void
  comment?: string
}

export interface ExecResult {
  response: ImapResponse
  /** Must be called once the response is processed: the parser waits for it. */
  next: () => void
}

export type CommandHandler = (connection: FlowInternals, ...args: unknown[]) => Promise<unknown>

export interface FlowInternals {
  exec(command: string, attributes: WireNode[] | false, options?: ExecOptions): Promise<ExecResult>
  run(command: string, ...args: unknown[]): Promise<unknown>
  /** Per-instance command registry; we give each client its own copy before changing it. */
  commands: Map<string, CommandHandler>
  untaggedHandlers: Record<string, UntaggedHandler | null | undefined>
  write(chunk: string | Buffer): void
  capabilities: Map<string, boolean | number>
  enabled: Set<string>
  isClosed: boolean
  servername: string | false
  host: string
  port: number
  stats(reset?: boolean): {sent: number; received: number}
  close(): void
}

export function internals(client: ImapFlow): FlowInternals {
  return client as unknown as FlowInternals
}

/** Runs one command and releases its tagged response at once (nothing streams). */
export async function command(flow: FlowInternals, name: string, attributes: WireNode[] | false, untagged?: Record<string, UntaggedHandler>): Promise<ImapResponse> {
  const result = await flow.exec(name, attributes, untagged ? {untagged} : undefined)
  result.next()
  return result.response
}
