// The lazily loaded ICE recovery chunk: a call's media path is watched from its first media connection on, which comes
// after the client is online (the chunk is preloaded on idle by then). ice-recovery.ts imports types only, so this
// chunk shares no class with the main bundle.
export { IceRecovery } from './ice-recovery.js';
