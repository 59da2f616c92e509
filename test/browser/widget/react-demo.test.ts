// demo/react.html: the elements inside a React 19 app (React sets their properties and listens to their events),
// calling and called by a real client in another tab. Needs `npm run build` (dist/demo/react-app.js).
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import { callingServer, RemotePage, uniqueUser } from '../helpers.js';

const PRELUDE = `const q = (sel) => document.querySelector(sel);
  const part = (host, name) => host?.shadowRoot?.querySelector('[part~="' + name + '"]') ?? null;
  const text = (id) => q('[data-testid="' + id + '"]')?.textContent ?? '';
  const until = async (pred, what, ms = 15000) => { const end = Date.now() + ms; while (!(await pred())) { if (Date.now() > end) throw new Error('timed out: ' + what + ' (log: ' + text('log') + ')'); await new Promise((r) => setTimeout(r, 25)); } };`;

describe('demo/react.html (React 19)', () => {
  it('React passes properties and hears events: answers a call, hangs up, vetoes a dial, places a video call', async () => {
    const me = uniqueUser('react');
    const other = uniqueUser('remote');
    const server = await callingServer();
    const id = await executeServerCommand<string, { path: string }>('open-page', {
      path: `/demo/react.html?${new URLSearchParams({ user: me, server, tokenUrl: '/__calling-token' })}`,
    });
    const page = (body: string) => executeServerCommand<unknown, { id: string; body: string }>('page-eval', { id, body: PRELUDE + body });
    const remote = await RemotePage.open();
    try {
      await remote.run(`await remote.start(${JSON.stringify(other)}); return true;`);
      // The `client` property React set on <call-provider> is started by it.
      await page(`await until(() => text('connection') === 'connected', 'React saw call-connection-change: connected'); return true;`);

      await remote.run(`window.outgoing = remote.client.callUser(${JSON.stringify(me)}); return true;`);
      await page(`await until(() => text('call-state') === 'ringing', 'React state: ringing');
        part(q('incoming-call'), 'answer-button').click();
        await until(() => text('call-state') === 'established', 'React state: established'); return true;`);
      expect(await page(`return text('log');`)).to.contain('call-answer (video: false)');
      await remote.run(`await remote.waitFor(() => window.outgoing.state === 'established'); return true;`);

      await page(`part(q('call-controls'), 'hangup-button').click();
        await until(() => text('call-state') === 'ended', 'React state: ended'); return true;`);
      expect(await page(`return text('log');`)).to.contain('call-hangup');
      await remote.run(`await remote.waitFor(() => window.outgoing.state === 'ended'); return true;`);

      // A cancelable event handled in React vetoes the call: nothing is dialed.
      await page(`const d = q('call-dialer'); d.value = 'nobody'; await d.updateComplete; part(d, 'call-button').click();
        await until(() => text('log').includes('vetoed'), 'veto logged'); return true;`);
      // React's state sets the dialer's `video` property (checked by default): the other side is offered video.
      await page(`const d = q('call-dialer'); d.value = ${JSON.stringify(other)}; await d.updateComplete; part(d, 'call-button').click(); return true;`);
      const offered = await remote.run<boolean>(`await remote.waitFor(() => remote.call?.state === 'ringing');
        const video = remote.call.details.isVideoOffered; remote.call.hangup(); return video;`);
      expect(offered).to.equal(true);
      await page(`await until(() => text('call-state') === 'ended', 'declined call ended'); return true;`);
      expect(await page(`return text('log');`)).to.contain('(video: true)');
    } finally {
      await remote.close();
      await executeServerCommand('close-page', { id });
    }
  });
});
