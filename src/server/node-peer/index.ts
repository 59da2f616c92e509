export { NodePeer, PeerSession, type NodePeerOptions, type SessionEnd, type SessionEvents, type PcmFrame } from './node-peer.js';
export { installWrtcGlobals, candidateAddress } from './wrtc.js';
