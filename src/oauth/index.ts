/**
 * The OAuth layer: talks to OAuth 2.0 authorization servers (through openid-client, in
 * openid-client-adapter.ts only) and receives the browser's redirect. Imports only src/shared;
 * the engine gives it plain settings and keeps the tokens (docs/design.md, "Layers").
 */
export {OAuthClient, type PendingAuthorization, type PendingDeviceAuthorization} from './openid-client-adapter.js'
export {OAuthGrantError} from './oauth-errors.js'
export {listenLoopback, type LoopbackRedirect} from './loopback-redirect.js'
export type {DeviceCodePrompt, LoginInteraction, OAuthClientSettings, TokenSet} from './types.js'
