/**
 * Stand-in for `webrtc-adapter` (38 KB minified) in the browser bundle. PeerJS imports it only to read
 * `browserDetails` (browser name and major version, for its support checks); the old-browser shims are not needed
 * by the browsers we support. The build aliases `webrtc-adapter` to this module.
 */
function detect(ua: string): { browser: string; version: number | null } {
  const firefox = /Firefox\/(\d+)/.exec(ua);
  if (firefox) return { browser: 'firefox', version: Number(firefox[1]) };
  const chrome = /Chrom(?:e|ium)\/(\d+)/.exec(ua);
  if (chrome) return { browser: 'chrome', version: Number(chrome[1]) };
  const safari = /Version\/(\d+).*Safari/.exec(ua);
  if (safari) return { browser: 'safari', version: Number(safari[1]) };
  return { browser: 'Not a supported browser.', version: null };
}

const adapter = { browserDetails: detect(typeof navigator === 'undefined' ? '' : navigator.userAgent) };
export default adapter;
