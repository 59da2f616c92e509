// Recent calls in real Chromium against the run's calling server: real clients place calls that are answered,
// declined and cancelled; each user's history then lists exactly those calls (direction, cause, duration), newest
// first, paged, and never another user's; <call-history> shows them, marks the missed one and calls back; and the
// one-file bundle fetches the element's chunk when a <call-history> is in the page.
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { CallingError, type Call, type CallClient, type CallHistoryEntry, type IncomingCallEvent } from '../../../src/core/index.js';
import { missedSince } from '../../../src/core/call-history.js';
import '../../../src/elements/index.js';
import type { CallProviderElement } from '../../../src/elements/index.js';
import { callingServer, nextEvent, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';
import { child, click, part, shadowText } from '../elements/element-helpers.js';

const ended = (call: Call) => (call.state === 'ended' ? Promise.resolve() : nextEvent(call, 'ended', 20_000).then(() => undefined));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `from` calls `to`; `to` answers and `hangup` (either side) ends it after `talk` ms. Resolves when both ended. */
async function answered(from: CallClient, to: CallClient, talk: number, hangup: 'caller' | 'callee' = 'caller'): Promise<Call> {
  const incoming = nextEvent<IncomingCallEvent>(to, 'incomingcall');
  const out = from.callUser(to.userId);
  const inc = (await incoming).call;
  inc.answer();
  await nextEvent(out, 'established', 15_000);
  await sleep(talk);
  (hangup === 'caller' ? out : inc).hangup();
  await Promise.all([ended(out), ended(inc)]);
  return out;
}

/** `from` calls `to`; while it rings `to` declines it, or `from` gives up (a missed call for `to`). */
async function unanswered(from: CallClient, to: CallClient, ender: 'callee' | 'caller', video = false): Promise<Call> {
  const incoming = nextEvent<IncomingCallEvent>(to, 'incomingcall');
  const out = video ? from.callUserVideo(to.userId) : from.callUser(to.userId);
  const inc = (await incoming).call;
  await nextEvent(out, 'ringing');
  (ender === 'callee' ? inc : out).hangup();
  await Promise.all([ended(out), ended(inc)]);
  return out;
}
const declined = (from: CallClient, to: CallClient) => unanswered(from, to, 'callee', true);
const cancelled = (from: CallClient, to: CallClient) => unanswered(from, to, 'caller');

const summary = (entries: CallHistoryEntry[]) => entries.map((e) => [e.callId, e.direction, e.callType, e.remote, e.answered, e.endCause]);

describe('recent calls', () => {
  afterEach(stopClients);

  it("each user's history lists exactly the calls they made and took, newest first, with direction, cause and duration", async () => {
    const alice = await startClient(uniqueUser('alice'), { displayName: 'Alice A' });
    const bob = await startClient(uniqueUser('bob'), { displayName: 'Bob B' });
    const carol = await startClient(uniqueUser('carol'));
    const before = Date.now();
    const a = await answered(alice, bob, 2200);
    const b = await declined(bob, alice);
    const c = await cancelled(alice, bob);
    const d = await answered(carol, bob, 300, 'callee');

    const mine = await alice.getCallHistory();
    expect(summary(mine)).to.deep.equal([
      [c.id, 'outgoing', 'user', bob.userId, false, 'canceled'],
      [b.id, 'incoming', 'user', bob.userId, false, 'denied'],
      [a.id, 'outgoing', 'user', bob.userId, true, 'hungUp'],
    ]);
    expect(mine[1]!.remoteDisplayName).to.equal('Bob B');
    expect(mine[1]!.video).to.equal(true);
    expect(mine[0]!.remoteDisplayName).to.equal(undefined); // the callee's name never reaches the server
    expect(Math.abs(mine[2]!.duration - a.details.duration)).to.be.at.most(1);
    expect(mine[2]!.duration).to.be.within(1, 4);
    expect(mine.every((e) => e.startedAt.getTime() >= before - 1000 && e.startedAt.getTime() <= Date.now())).to.equal(true);

    const his = await bob.getCallHistory();
    expect(summary(his)).to.deep.equal([
      [d.id, 'incoming', 'user', carol.userId, true, 'hungUp'],
      [c.id, 'incoming', 'user', alice.userId, false, 'canceled'],
      [b.id, 'outgoing', 'user', alice.userId, false, 'denied'],
      [a.id, 'incoming', 'user', alice.userId, true, 'hungUp'],
    ]);
    expect(his[1]!.remoteDisplayName).to.equal('Alice A');
    // Missed: bob's ringing call that alice cancelled; not the one alice declined herself.
    expect(missedSince(his, before)).to.equal(1);
    expect(missedSince(his, his[1]!.startedAt)).to.equal(0);
    expect(missedSince(mine, before)).to.equal(0);
    // Carol sees her one call; the calls between alice and bob are not hers.
    expect(summary(await carol.getCallHistory())).to.deep.equal([[d.id, 'outgoing', 'user', bob.userId, true, 'hungUp']]);

    // Pages: `before` is the last call id shown; a short page is the last.
    const first = await bob.getCallHistory({ limit: 3 });
    const rest = await bob.getCallHistory({ limit: 3, before: first.at(-1)!.callId });
    expect([...first, ...rest].map((e) => e.callId)).to.deep.equal(his.map((e) => e.callId));
    expect(rest.length).to.equal(1);
    // A cursor from someone else's history is refused, not answered with their calls.
    const foreign = await alice.getCallHistory({ before: d.id }).catch((e: unknown) => e);
    expect(foreign).to.be.instanceOf(CallingError);
    expect((foreign as CallingError).code).to.equal('invalid-cursor');
  });

  it('bad arguments and a stopped client are typed errors', async () => {
    const alice = await startClient(uniqueUser('alice'));
    for (const [options, code] of [[{ limit: 0 }, 'invalid-limit'], [{ limit: 1000 }, 'invalid-limit'], [{ limit: '5' }, 'invalid-limit'], [{ before: 42 }, 'invalid-cursor']] as const) {
      const err = await alice.getCallHistory(options as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(options)).to.be.instanceOf(CallingError);
      expect((err as CallingError).domain).to.equal('argument');
      expect((err as CallingError).code).to.equal(code);
    }
    expect(await alice.getCallHistory({ limit: 100 })).to.deep.equal([]);
    await alice.stop();
    const err = await alice.getCallHistory().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(CallingError);
    expect((err as CallingError).code).to.equal('not-started');
  });
});

describe('<call-history>', () => {
  afterEach(stopClients);

  async function providers(lang = 'en') {
    const server = await callingServer();
    const aliceId = uniqueUser('alice');
    const bobId = uniqueUser('bob');
    const root = await fixture<HTMLDivElement>(html`<div>
      <call-provider id="alice" lang=${lang} token-url="/__calling-token" server=${server} user-id=${aliceId} display-name="Alice"><call-history></call-history></call-provider>
      <call-provider id="bob" lang=${lang} token-url="/__calling-token" server=${server} user-id=${bobId}><call-history></call-history></call-provider>
    </div>`);
    const alice = root.querySelector<CallProviderElement>('#alice')!;
    const bob = root.querySelector<CallProviderElement>('#bob')!;
    await waitFor(() => alice.connectionState === 'connected' && bob.connectionState === 'connected', 10_000, 'both connected');
    await customElements.whenDefined('call-history');
    return { alice, bob, aliceId, bobId };
  }
  const rows = (p: Element) => [...(child(p, 'call-history').shadowRoot?.querySelectorAll('[part~="row"]') ?? [])];

  it('lists the calls, marks the missed one, is accessible, and its call-back button dials the same destination', async () => {
    const { alice, bob, aliceId, bobId } = await providers();
    const history = child(bob, 'call-history');
    await waitFor(() => shadowText(history).includes('No calls yet'), 10_000, 'empty state');
    await expect(history).to.be.accessible();

    await cancelled(alice.client!, bob.client!);
    await answered(alice.client!, bob.client!, 1200);
    // Both lists reload by themselves when a call ends.
    await waitFor(() => rows(bob).length === 2 && rows(alice).length === 2, 10_000, 'two rows each');
    const [newest, older] = rows(bob);
    expect(newest!.getAttribute('part')).to.equal('row');
    expect(newest!.textContent).to.contain('Alice').and.contain('Incoming call');
    expect(newest!.querySelector('[part="duration"]')?.textContent).to.match(/^00:0[1-3]$/);
    expect(older!.getAttribute('part')).to.equal('row missed');
    expect(older!.textContent).to.contain('Missed call');
    expect(rows(alice)[0]!.textContent).to.contain(bobId).and.contain('Outgoing call');
    expect(rows(alice)[1]!.textContent).to.contain('Call ended — canceled');
    await expect(history).to.be.accessible();

    // Keyboard: Tab reaches the call-back buttons. Bob calls alice back from the missed call's row.
    const back = older!.querySelector<HTMLButtonElement>('[part="call-back-button"]')!;
    expect(back.getAttribute('aria-label')).to.equal('Call Alice back');
    back.focus();
    const incoming = nextEvent<IncomingCallEvent>(alice.client!, 'incomingcall');
    await sendKeys({ press: 'Enter' });
    const ring = (await incoming).call;
    expect(ring.remoteUserId).to.equal(bobId);
    expect(bob.client!.activeCalls[0]?.remoteUserId).to.equal(aliceId);
    // While that call goes on, call-back buttons are disabled.
    await waitFor(() => back.disabled, 5000, 'call-back disabled during a call');
    ring.hangup();
    await waitFor(() => !back.disabled, 10_000, 'call-back enabled again');
  });

  it('pages with "Show more" and speaks Swedish', async () => {
    const { alice, bob } = await providers('sv');
    const history = child(bob, 'call-history');
    history.limit = 2;
    for (let i = 0; i < 3; i++) await cancelled(alice.client!, bob.client!);
    await history.refresh();
    await history.updateComplete;
    expect(rows(bob).length).to.equal(2);
    expect(shadowText(history)).to.contain('Missat samtal');
    expect(part(history, 'call-back-button').getAttribute('aria-label')).to.equal('Ring upp Alice');
    await click(part(history, 'load-more'));
    await waitFor(() => rows(bob).length === 3, 10_000, 'third row');
    expect(history.entries.map((e) => e.startedAt.getTime())).to.deep.equal(history.entries.map((e) => e.startedAt.getTime()).sort((x, y) => y - x));
    await waitFor(() => !history.shadowRoot!.querySelector('[part="load-more"]'), 5000, 'no more pages');
    await expect(history).to.be.accessible();
  });
});

describe('<call-history> in the one-file bundle', () => {
  it('is fetched as a lazy chunk when the page has one, and upgrades', async () => {
    const user = uniqueUser('lazy');
    const id = await executeServerCommand<string, { path: string }>('open-page', { path: `/test/browser/history/fixtures/history.html?user=${user}` });
    try {
      const result = await executeServerCommand<{ chunks: string[]; text: string; hostOk: boolean; helper: string }, { id: string; body: string }>('page-eval', {
        id,
        body: `const end = Date.now() + 15000;
          const el = document.querySelector('call-history');
          while (!(el.shadowRoot && el.shadowRoot.textContent.includes('No calls yet'))) {
            if (Date.now() > end) throw new Error('no empty state: ' + (el.shadowRoot ? el.shadowRoot.textContent : 'not upgraded'));
            await new Promise((r) => setTimeout(r, 50));
          }
          return {
            chunks: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.includes('/chunks/')).map((n) => n.replace(/^.*\\/chunks\\//, '').replace(/-[0-9a-f]{8}\\.js$/, '')),
            text: el.shadowRoot.textContent.replace(/\\s+/g, ' ').trim(),
            hostOk: el instanceof window.CallingElements.__chunkHost.CallElement && window.firstDefined === false,
            helper: typeof (await window.CallingElements.loadCallHistoryElement()).missedSince,
          };`,
      });
      expect(result.chunks).to.include('call-history-chunk');
      expect(result.chunks).to.include('history-chunk');
      expect(result.text).to.contain('No calls yet');
      expect(result.helper).to.equal('function');
      expect(result.hostOk, 'the chunk extends the entry\'s own base class, and the tag was not defined by the entry itself').to.equal(true);
    } finally {
      await executeServerCommand('close-page', { id });
    }
  });
});
