export { callingContext, snapshotOf } from './calling-context.js';
export type { CallingState, CallSnapshot } from './calling-context.js';
export { CallController, audioControllerOf } from './call-controller.js';
export type { AudioControllerLike } from './call-controller.js';
