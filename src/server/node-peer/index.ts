/**
 * # node-peer — a calling-elements peer in Node
 *
 * A PeerJS peer on `@roamhq/wrtc` that speaks the call-control protocol of `src/core/protocol.ts` (invite, ringing,
 * answer, deny, cancel, hangup, media, dtmf) and exposes each call's audio as PCM. Services (the phone/SIP gateway,
 * the conference service) build on it.
 *
 * ```ts
 * const peer = await NodePeer.start({
 *   id: GATEWAY_PEER_ID, server: 'http://127.0.0.1:9000',
 *   token: () => server.mintToken(GATEWAY_PEER_ID),     // a fresh service token per (re)connect
 *   candidateFilter: (ip) => ip === '127.0.0.1',        // optional: which local ICE candidates to announce
 * });
 * peer.on('invite', (s) => {                              // s.invite: the validated InviteMessage
 *   s.ringing();                                          // browser → 'ringing'
 *   s.onAudio(({ samples, sampleRate, channelCount }) => …); // 10 ms frames; the rate may change (16 → 48 kHz)
 *   s.answer();                                           // browser → 'answered' → 'established' (s emits 'media')
 *   s.sendAudio(int16Frame, 8000);                        // one 10 ms mono frame per call, paced by you
 *   s.on('dtmf', (digits) => …); s.on('mute', (muted) => …);
 *   s.on('end', ({ cause, by, error }) => …);             // cancel/hangup/deny from the browser, or our own end
 *   s.hangup('denied', { domain: 'sip', code: 'busy', message: 'Busy Here', sipStatus: 486 }); // or s.deny()
 * });
 * const out = peer.call('alice', { callId, from, to, callType: 'sip', video: false, headers: {} }); // ring a user
 * out.on('ringing' | 'answer' | 'media' | 'end', …);
 * await peer.stop();                                       // hangs up every session, then leaves signalling
 * ```
 *
 * - `DeviceFork.ring(peer, userId, invite)` rings every online device of a user (`peer.devicesOf`): the first answer
 *   wins, the others end with `otherDeviceAnswered`; the fork then acts as the winner's session (gateway: incoming
 *   SIP calls; conference service: REST callouts).
 * - `session.audioCodec` is the negotiated codec; `audioCodecs` (per peer, or per `call()`) restricts it.
 * - `connectMedia()` answers the media offer without answering the call (early media).
 * - Every session's end is reported to the server's call records (`CALL-END`), unless `reportCallEnds: false`.
 * - Messages are queued until the data channel opens; a media offer that overtakes its invite is held; a closed
 *   control channel or failed ICE ends the session; signalling drops are retried with a fresh token.
 * - PeerJS crashes a Node process on events and operations that outlive `close()` (null `provider`): the installed
 *   `RTCPeerConnection` drops them (see `wrtc.ts`).
 */
export { NodePeer, PeerSession, type CallOptions, type NodePeerOptions, type SessionEnd, type SessionEvents, type PcmFrame } from './node-peer.js';
export { DeviceFork, deviceSuffix, type DeviceForkRingOptions, type ForkInvite } from './device-fork.js';
export { installWrtcGlobals, candidateAddress } from './wrtc.js';
