/**
 * What a run of the CLI was doing at a given moment, as the proxies in front of its servers see
 * it. The kill and signal scenarios count only the stops that landed while the process was doing
 * real work: a kill while Node is still loading, or after the last LOGOUT, tests little, and a
 * tally that includes them can reach its target without testing anything.
 *
 * A session is *working* from the first command it sends after LOGIN/AUTHENTICATE (so the login
 * was answered and the run went on: the account lock is held, the store may be written) until it
 * sends LOGOUT. The run is `working` while at least one of its sessions is; before any session got
 * that far it is `starting`; once every working session has logged out it is `finishing`.
 */
import type {TcpProxy} from '../../support/tcp-proxy.js'

export type RunPhase = 'starting' | 'working' | 'finishing'

const isLogin = (name: string): boolean => name === 'LOGIN' || name === 'AUTHENTICATE'

export class SessionWatch {
  /** Per proxy and connection: 'login' once LOGIN was sent, 'working' after the next command. */
  private readonly sessions = new Map<string, 'login' | 'working' | 'out'>()
  private readonly offs: Array<() => void> = []
  private worked = false

  constructor(proxies: readonly TcpProxy[]) {
    proxies.forEach((proxy, i) => {
      this.offs.push(
        proxy.onCommand((c) => {
          const key = `${i}:${c.connection}`
          const state = this.sessions.get(key)
          if (isLogin(c.name)) this.sessions.set(key, 'login')
          else if (c.name === 'LOGOUT') {
            if (state !== undefined) this.sessions.set(key, 'out')
          } else if (state === 'login') {
            this.sessions.set(key, 'working')
            this.worked = true
          }
        }),
      )
    })
  }

  phase(): RunPhase {
    if ([...this.sessions.values()].includes('working')) return 'working'
    return this.worked ? 'finishing' : 'starting'
  }

  close(): void {
    for (const off of this.offs) off()
  }
}

/** The notes label of a stop that landed in `phase`. */
export function phaseNote(what: string, phase: RunPhase): string {
  return phase === 'working' ? `${what} while working` : `${what} while ${phase} (not counted)`
}
