// The calling elements inside a React 19 app: React sets their properties (`client`, `video`) and listens to their
// events (`oncall-change`, `oncall-dial`, …) natively. Built by scripts/build.mjs into dist/demo/react-app.js.
// Query parameters: ?user=alice (sign in at once), &server=…, &tokenUrl=… (default: this server's /dev/token).
import { StrictMode, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { CallClient } from '../src/index.ts';

const params = new URLSearchParams(location.search);
const server = params.get('server') ?? location.origin;
const tokenUrl = params.get('tokenUrl') ?? '/dev/token';

function useClient(userId) {
  const client = useMemo(() => {
    if (!userId) return null;
    const token = async () => {
      const res = await fetch(`${tokenUrl}?userId=${encodeURIComponent(userId)}`);
      if (!res.ok) throw new Error(`token request failed: ${res.status}`);
      return (await res.json()).token;
    };
    return new CallClient({ userId, server, token, displayName: `${userId} (React)` });
  }, [userId]);
  // The provider starts a shared client but never stops it: the app owns it.
  useEffect(() => () => void client?.stop(), [client]);
  return client;
}

function SignIn({ onSignIn }) {
  const [value, setValue] = useState('');
  return (
    <form onSubmit={(e) => { e.preventDefault(); if (value.trim()) onSignIn(value.trim()); }}>
      <label>Your user id <input value={value} onChange={(e) => setValue(e.target.value)} autoComplete="off" /></label>{' '}
      <button type="submit">Go online</button>
    </form>
  );
}

function Phone({ client, blocked }) {
  const [connection, setConnection] = useState('connecting');
  const [call, setCall] = useState(null);
  const [log, setLog] = useState([]);
  const [video, setVideo] = useState(true);
  const lastState = useRef(null);
  const note = (line) => setLog((l) => [...l.slice(-7), line]);
  return (
    <call-provider
      client={client}
      oncall-connection-change={(e) => setConnection(e.detail.state)}
      oncall-change={(e) => {
        const s = e.detail.call;
        setCall(s ? { state: s.state, remote: s.remoteName, video: s.hasVideo } : null);
        // call-change fires on every change of the snapshot (details, media, …): log only new states.
        if (s && s.state !== lastState.current) note(`call-change: ${s.state}`);
        lastState.current = s?.state ?? null;
      }}
    >
      <p>Signed in as <b>{client.userId}</b> — <span data-testid="connection">{connection}</span>
        {call && <> · call with <b>{call.remote}</b>: <span data-testid="call-state">{call.state}</span></>}</p>
      <call-status></call-status>
      <incoming-call oncall-answer={(e) => note(`call-answer (video: ${e.detail.video})`)} oncall-decline={() => note('call-decline')}></incoming-call>
      {call?.video && call.state !== 'ended' && (
        <div className="videos"><video-view source="remote"></video-view><video-view source="local"></video-view></div>
      )}
      <label><input type="checkbox" checked={video} onChange={(e) => setVideo(e.target.checked)} /> video calls (React state → <code>video</code> property)</label>
      <call-dialer
        modes="user"
        video={video}
        oncall-dial={(e) => {
          // A cancelable request event: the app may veto it.
          if (blocked.includes(e.detail.destination)) { e.preventDefault(); note(`call-dial to ${e.detail.destination} vetoed by the app`); return; }
          note(`call-dial ${e.detail.destination} (video: ${e.detail.video})`);
        }}
      ></call-dialer>
      <call-controls oncall-hangup={() => note('call-hangup')}></call-controls>
      <h2>Events React saw</h2>
      <ol data-testid="log">{log.map((line, i) => <li key={i}>{line}</li>)}</ol>
    </call-provider>
  );
}

function App() {
  const [userId, setUserId] = useState(params.get('user') ?? '');
  const client = useClient(userId);
  return client ? <Phone client={client} blocked={['nobody']} /> : <SignIn onSignIn={setUserId} />;
}

createRoot(document.getElementById('app')).render(<StrictMode><App /></StrictMode>);
