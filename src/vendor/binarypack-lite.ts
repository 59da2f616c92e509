/**
 * Stand-in for `peerjs-js-binarypack` (8.7 KB minified) in browser bundles. PeerJS uses it only for DataConnections
 * with its default `binary` serialization; ours are all `raw` (JSON text we parse ourselves, see core/protocol.ts)
 * and the client refuses connections of any other kind. `unpack` yields nothing rather than throwing, so a binary
 * frame from a foreign peer is dropped instead of becoming an uncaught error. The build aliases the package here.
 */
export function pack(_data: unknown): ArrayBuffer {
  return new ArrayBuffer(0);
}

export function unpack(_data: ArrayBuffer): unknown {
  return undefined;
}
