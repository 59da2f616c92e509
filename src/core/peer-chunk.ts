// The lazily loaded PeerJS chunk. Importing `peerjs` itself dynamically would keep every export of it (esbuild
// cannot tree-shake a dynamic import's namespace; MsgPack serialization alone is 25 KB): this module names the one
// export the SDK uses, so the chunk holds just that.
export { Peer } from 'peerjs';
