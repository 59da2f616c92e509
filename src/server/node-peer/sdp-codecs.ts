/**
 * SDP munging for the WebRTC leg: keep only some audio codecs (by rtpmap name, in the given order). A service that
 * works at 8 kHz anyway (the phone/SIP gateway) answers a browser's offer with PCMU only, so neither side runs an
 * Opus encoder/decoder or a 48 kHz resampler for that call. Browsers always offer PCMU/PCMA; when none of the
 * wanted codecs is present the section is left as it is (the call still works, on whatever was negotiated).
 */
export function restrictAudioCodecs(sdp: string, codecs: readonly string[]): string {
  if (!codecs.length) return sdp;
  const wanted = codecs.map((c) => c.toUpperCase());
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!lines[i].startsWith('m=audio ')) {
      out.push(lines[i++]);
      continue;
    }
    // One media section: the m= line up to the next m= line.
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith('m=')) end++;
    out.push(...restrictSection(lines.slice(i, end), wanted));
    i = end;
  }
  return out.join(eol);
}

function restrictSection(section: string[], wanted: string[]): string[] {
  const m = section[0].split(' ');
  const pts = m.slice(3);
  const nameOf = new Map<string, string>();
  for (const l of section) {
    const r = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(l);
    if (r) nameOf.set(r[1], r[2].toUpperCase());
  }
  const keep: string[] = [];
  for (const codec of wanted) for (const pt of pts) if (nameOf.get(pt) === codec && !keep.includes(pt)) keep.push(pt);
  if (!keep.length) return section;
  const ptOf = (l: string) => /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(l)?.[1];
  return [
    [...m.slice(0, 3), ...keep].join(' '),
    ...section.slice(1).filter((l) => {
      const pt = ptOf(l);
      return pt === undefined || keep.includes(pt);
    }),
  ];
}

/** The rtpmap name of the first payload type of the first audio section (the codec an answer settles on). */
export function firstAudioCodec(sdp: string): string | undefined {
  const lines = sdp.split(/\r?\n/);
  const m = lines.findIndex((l) => l.startsWith('m=audio '));
  if (m < 0) return undefined;
  const pt = lines[m]!.split(' ')[3];
  for (let i = m + 1; i < lines.length && !lines[i]!.startsWith('m='); i++) {
    const r = /^a=rtpmap:(\d+) ([^/\s]+)\//.exec(lines[i]!);
    if (r && r[1] === pt) return r[2];
  }
  return undefined;
}
