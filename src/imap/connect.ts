/**
 * connect(): one authenticated IMAP session (types.ts `Connect`).
 *
 * 1. TCP, then implicit TLS (`tls`), STARTTLS (`starttls`, RFC 3501 §6.2.1, required: a server
 *    without it is refused) or nothing (`plain`); certificate checks per the endpoint.
 * 2. Greeting, CAPABILITY, login: AUTHENTICATE PLAIN (RFC 4616) or LOGIN with a password, or
 *    AUTHENTICATE XOAUTH2 / OAUTHBEARER (RFC 7628) with a token (one refresh on rejection).
 * 3. ID (RFC 2971) when the configuration gives a client identity and the server has ID.
 * 4. ENABLE CONDSTORE QRESYNC (RFC 5161, RFC 7162 §3.2.3) for what the server announces.
 * A failure before the greeting is diagnosed (connect-failure.ts: what answered on that port).
 *    Never UTF8=ACCEPT (RFC 6855) nor IMAP4rev2 (RFC 9051): both change how names and message
 *    data come back, and imap-backup uses neither (docs/imap.md "Capabilities").
 *
 * imapflow options that would change server state or add traffic are off: no auto-IDLE, no
 * auto-ENABLE, no ID with imapflow's own identity; folders are never subscribed (we send CREATE
 * ourselves). Its 1 GiB literal limit is lowered to what the caller can need (limits.ts).
 */
import {readFile} from 'node:fs/promises'
import type {ConnectionOptions as TlsOptions} from 'node:tls'
import {ImapFlow, type ImapFlowOptions} from 'imapflow'
import {registerSecret} from '../shared/secrets.js'
import {authenticateHandler} from './commands/authenticate.js'
import {loginHandler} from './commands/login.js'
import {FetchTap} from './fetch-tap.js'
import {capabilitiesOf} from './capabilities.js'
import {diagnoseConnectFailure} from './connect-failure.js'
import {flowLogger} from './flow-logger.js'
import {internals, responseInProgress, trackUnparsed} from './flow-internals.js'
import {LinkGuard} from './guard.js'
import {ImapConnectionError} from './imap-errors.js'
import {literalLimit, responseLimit} from './limits.js'
import {FlowSession} from './session.js'
import type {Connect, ConnectOptions, Credentials, Endpoint, ImapSession} from './types.js'
import {peerInfo} from './peer.js'

/** Chunk of a downloadMessage() partial FETCH, unless ConnectOptions says otherwise. */
export const DEFAULT_DOWNLOAD_CHUNK_BYTES = 1024 * 1024
/**
 * imapflow's inactivity timeout would also fire between commands, when nothing is pending; our
 * guard (guard.ts) watches only while we wait on the server, so imapflow's is pushed out to the
 * largest delay a timer can have (~24.8 days).
 */
const NO_SOCKET_TIMEOUT = 2 ** 31 - 1

export const connect: Connect = async (options: ConnectOptions): Promise<ImapSession> => {
  const {endpoint, credentials, logger, signal} = options
  if (signal.aborted) throw signal.reason
  const server = `${endpoint.host}:${endpoint.port}`
  const secrets: string[] = []
  const addSecret = (value: string): void => {
    registerSecret(value)
    if (value.length > 0 && !secrets.includes(value)) secrets.push(value)
  }
  let firstToken: string | undefined
  if (credentials.kind === 'password') {
    addSecret(credentials.password)
    // The SASL PLAIN response (RFC 4616) and its base64 form carry the password too.
    addSecret(Buffer.from(`\0${credentials.user}\0${credentials.password}`).toString('base64'))
  } else {
    firstToken = await credentials.getToken(false)
    addSecret(firstToken)
  }

  const tls = await tlsOptions(endpoint, server)
  const chunkBytes = options.downloadChunkBytes ?? DEFAULT_DOWNLOAD_CHUNK_BYTES
  const maxLiteral = literalLimit(options.wholeMessageBytes ?? 0, chunkBytes)
  const log = flowLogger(logger, {traceProtocol: options.traceProtocol === true, secrets: () => secrets})
  const flowOptions: ImapFlowOptions = {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.security === 'tls',
    doSTARTTLS: endpoint.security === 'starttls' ? true : endpoint.security === 'plain' ? false : undefined,
    tls,
    auth: credentials.kind === 'password' ? {user: credentials.user, pass: credentials.password} : {user: credentials.user, accessToken: firstToken},
    logger: log,
    connectionTimeout: endpoint.connectTimeoutMs,
    greetingTimeout: endpoint.connectTimeoutMs,
    socketTimeout: NO_SOCKET_TIMEOUT,
    disableAutoIdle: true,
    disableAutoEnable: true,
    disableIMAP4rev2: true,
    qresync: true,
    // Instead of 1 GiB and 2 GiB (limits.ts). A line without a literal (maxLineLength, 1 GiB)
    // is bounded by the response limit too.
    maxLiteralSize: maxLiteral,
    maxResponseSize: responseLimit(maxLiteral),
  }
  const client = new ImapFlow(flowOptions)
  const flow = internals(client)
  trackUnparsed(flow, log.unparsed)
  // Our UID FETCHes are read off the connection by the tap (fetch-tap.ts, docs/imap.md).
  const tap = new FetchTap(flow.streamer, log)
  // imapflow emits 'error' for a link that fails outside a command; without a listener the
  // EventEmitter would throw. The session reports it on the next call.
  client.on('error', (error: Error) => logger.debug('IMAP connection error', {error: error.message}))

  // Our own AUTHENTICATE (OAuth mechanism as configured), LOGIN (refuses what it cannot send) and
  // ID (only our identity, only after login), on a copy of the command table so other clients
  // are not affected.
  const commands = new Map(flow.commands)
  const originalId = commands.get('ID')
  commands.set('AUTHENTICATE', authenticateHandler(commands.get('AUTHENTICATE')!, oauthLogin(credentials, addSecret)))
  commands.set('LOGIN', loginHandler(commands.get('LOGIN')!))
  commands.set('ID', async () => undefined)
  flow.commands = commands

  const guard = new LinkGuard(
    {received: () => flow.stats().received, sent: () => flow.stats().sent, inProgress: () => tap.inProgress() ?? responseInProgress(flow), close: () => client.close()},
    endpoint.idleTimeoutMs,
    signal,
    logger,
  )
  const context = {server, user: credentials.user, secrets}
  guard.begin()
  try {
    await client.connect()
    if (options.clientId !== undefined && originalId !== undefined && flow.capabilities.has('ID')) {
      await originalId(flow, {name: options.clientId.name, version: options.clientId.version})
    }
    const wanted = ['CONDSTORE', 'QRESYNC'].filter((c) => flow.capabilities.has(c))
    if (wanted.length > 0 && flow.capabilities.has('ENABLE')) await flow.run('ENABLE', wanted)
  } catch (error) {
    guard.end()
    guard.dispose()
    client.close()
    const translated = guard.translate(error, {...context, command: 'login'})
    const greeted = flow.greetingReceived === true
    if (signal.aborted || (guard.timedOut && greeted)) throw translated
    // Before the greeting: say what answered there (a wrong port or security setting), instead
    // of a network failure to retry (connect-failure.ts). Our inactivity guard may have ended
    // the wait for the greeting first: that is a greeting timeout too.
    const failure = guard.timedOut ? Object.assign(new Error('no IMAP greeting'), {code: 'GREETING_TIMEOUT', cause: error}) : error
    throw (await diagnoseConnectFailure(failure, endpoint, greeted)) ?? translated
  }
  guard.progress() // logged in: the wait of the login does not count against the first command
  guard.end()
  if (signal.aborted) {
    guard.dispose()
    client.close()
    throw signal.reason
  }
  const session = new FlowSession({
    client,
    flow,
    tap,
    guard,
    capabilities: capabilitiesOf(flow),
    user: credentials.user,
    server,
    logger,
    signal,
    secrets: () => secrets,
    downloadChunkBytes: chunkBytes,
    peer: peerInfo(flow),
  })
  logger.debug('IMAP session ready', {server, user: credentials.user, capabilities: [...session.capabilities.all].join(' ')})
  return session
}

function oauthLogin(credentials: Credentials, addSecret: (value: string) => void): Parameters<typeof authenticateHandler>[1] {
  if (credentials.kind !== 'oauth2') return undefined
  return {
    mechanism: credentials.mechanism,
    getToken: async (refresh) => {
      const token = await credentials.getToken(refresh)
      addSecret(token)
      return token
    },
    onToken: (token, encodings) => {
      addSecret(token)
      for (const encoding of encodings) addSecret(encoding)
    },
  }
}

async function tlsOptions(endpoint: Endpoint, server: string): Promise<TlsOptions> {
  const tls: TlsOptions = {rejectUnauthorized: endpoint.verifyCertificate}
  if (endpoint.minTlsVersion !== undefined) tls.minVersion = endpoint.minTlsVersion
  if (endpoint.caFile !== undefined) {
    try {
      tls.ca = await readFile(endpoint.caFile)
    } catch (error) {
      throw new ImapConnectionError(`cannot read the CA file '${endpoint.caFile}' for ${server}: ${(error as Error).message}`, 'tls', false, {cause: error})
    }
  }
  return tls
}




