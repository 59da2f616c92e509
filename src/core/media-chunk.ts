// The lazily loaded media chunk: choosing devices, switching them mid-call and screen sharing are needed only once
// a client is online (it starts following the device list then), so they do not weigh on the first paint.
// media-devices.ts imports only types, so this chunk shares no class with the main bundle.
export { DeviceManager } from './media-devices.js';
