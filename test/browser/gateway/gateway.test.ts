// Phone and SIP calls from real Chromium through the gateway (started by the test setup, on 127.0.0.1) to real SIP
// peers: baresip (auto-answers, plays 1000 Hz, records what it hears, logs RFC 4733 events) and sipp.
import { expect } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import type { Call } from '../../../src/core/index.js';
import { listenTo as listen, nextEvent, recordEvents, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';

interface BaresipReport {
  established: boolean;
  terminated: boolean;
  dtmf: string;
  received: { seconds: number; rms: number; dominantHz: number; dominantShare: number } | null;
}

const baresip = {
  start: () => executeServerCommand<{ id: string; port: number; ready: boolean }, object>('sip-baresip', { action: 'start' }),
  report: (id: string) => executeServerCommand<BaresipReport, object>('sip-baresip', { action: 'report', id }),
  hangup: (id: string) => executeServerCommand('sip-baresip', { action: 'hangup', id }),
  stop: (id: string) => executeServerCommand('sip-baresip', { action: 'stop', id }),
};


const EVENTS = ['progressing', 'ringing', 'answered', 'established', 'ended'];

afterEach(stopClients);

describe('SIP calls to baresip through the gateway', () => {
  let peer: { id: string; port: number } | undefined;
  afterEach(async () => {
    if (peer) await baresip.stop(peer.id);
    peer = undefined;
  });

  it('rings and connects, audio flows both ways, DTMF arrives as RFC 4733 events, the browser hangs up', async () => {
    peer = await baresip.start();
    const client = await startClient(uniqueUser('alice'));
    const call: Call = client.callSip(`bob@127.0.0.1:${peer.port}`, { headers: { 'x-test': 'browser' } });
    const events = recordEvents(call, EVENTS);
    await nextEvent(call, 'established', 15_000);
    expect(events).to.include.members(['progressing', 'answered', 'established']);
    expect(call.callType).to.equal('sip');

    // The gateway answers the browser's offer with G.711 µ-law only (no Opus on the gateway).
    expect((await call.getStats())?.audioCodec ?? '').to.match(/pcmu/i);

    // baresip → browser: its 1000 Hz sine, G.711 RTP → jitter buffer → the browser leg (PCMU).
    const heard = await listen(call.remoteStream!, 2000);
    expect(heard.peak).to.be.greaterThan(0.05);
    expect(heard.dominantHz).to.be.within(950, 1050);

    // browser → baresip: Chromium's fake microphone over PCMU, re-packetised to G.711 RTP; baresip records it.
    call.sendDtmf('12#');
    await new Promise((r) => setTimeout(r, 1500));
    const report = await baresip.report(peer.id);
    expect(report.established).to.equal(true);
    expect(report.dtmf).to.equal('12#');
    expect(report.received, 'baresip recorded audio').to.not.equal(null);
    expect(report.received!.rms).to.be.greaterThan(0.003);

    const ended = nextEvent(call, 'ended');
    call.hangup();
    await ended;
    expect(call.details.endCause).to.equal('hungUp');
    await waitFor(async () => (await baresip.report(peer!.id)).terminated, 5000, 'baresip to see the BYE');
  });

  it('ends with hungUp when the SIP side hangs up', async () => {
    peer = await baresip.start();
    const client = await startClient(uniqueUser('alice'));
    const call = client.callSip(`bob@127.0.0.1:${peer.port}`);
    await nextEvent(call, 'established', 15_000);
    const ended = nextEvent(call, 'ended', 10_000);
    await baresip.hangup(peer.id);
    await ended;
    expect(call.details.endCause).to.equal('hungUp');
    expect(call.details.error).to.equal(undefined);
  });
});

describe('SIP failures from sipp reach the browser', () => {
  it('486 Busy Here ends the call as denied with the SIP status and reason', async () => {
    const sipp = await executeServerCommand<{ id: string; port: number }, object>('sip-sipp', {
      action: 'start', scenario: 'reject.xml', fill: { status: '486', reason: 'Busy Here' },
    });
    const client = await startClient(uniqueUser('alice'));
    const call = client.callSip(`bob@127.0.0.1:${sipp.port}`);
    const events = recordEvents(call, EVENTS);
    await nextEvent(call, 'ended', 15_000);
    expect(events).to.include('ringing');
    expect(call.details.endCause).to.equal('denied');
    expect(call.details.error?.domain).to.equal('sip');
    expect(call.details.error?.sipStatus).to.equal(486);
    expect(call.details.error?.sipReason).to.equal('Busy Here');
    const result = await executeServerCommand<{ exitCode: number | null }, object>('sip-sipp', { action: 'result', id: sipp.id });
    expect(result.exitCode).to.equal(0);
  });
});

describe('the test number +46000000000', () => {
  it('plays the voice prompt and ends by itself with hungUp', async () => {
    const client = await startClient(uniqueUser('alice'));
    const call = client.callPhoneNumber('+46000000000');
    await nextEvent(call, 'established', 15_000);
    const t0 = performance.now();
    const heard = await listen(call.remoteStream!, 2000);
    expect(heard.peak, 'the prompt is heard').to.be.greaterThan(0.05);
    await nextEvent(call, 'ended', 10_000);
    const after = performance.now() - t0;
    expect(after).to.be.lessThan(8000);
    expect(call.details.endCause).to.equal('hungUp');
    expect(call.details.error).to.equal(undefined);
  });
});

describe('incoming SIP calls', () => {
  it('a SIP caller rings the user: remote party sip:…, answer, audio, the caller hangs up', async () => {
    const user = uniqueUser('bob');
    const client = await startClient(user);
    const incoming = nextEvent<Event & { call: Call }>(client, 'incomingcall', 10_000);
    const sipp = await executeServerCommand<{ id: string; port: number }, object>('sip-sipp', { action: 'start', scenario: 'uac-call.xml', call: user });
    const call = (await incoming).call;
    expect(call.direction).to.equal('incoming');
    expect(call.callType).to.equal('sip');
    expect(call.remoteUserId).to.equal('sip:sipp@127.0.0.1');
    expect(call.participants[0].displayName).to.equal('SIPp Caller');
    expect(call.details.headers['x-origin']).to.equal('sipp-uac');
    call.answer();
    await nextEvent(call, 'established', 10_000);
    // sipp echoes the fake microphone back (browser → gateway → RTP → sipp → gateway → browser) for 4 s after its ACK
    const heard = await listen(call.remoteStream!, 2500);
    expect(heard.peak).to.be.greaterThan(0.01);
    expect((await call.getStats())?.audioCodec ?? '').to.match(/pcmu/i); // the gateway's offer carried PCMU only
    await nextEvent(call, 'ended', 10_000);
    expect(call.details.endCause).to.equal('hungUp');
    const result = await executeServerCommand<{ exitCode: number | null }, object>('sip-sipp', { action: 'result', id: sipp.id });
    expect(result.exitCode).to.equal(0);
  });
  it('rings every online device of the user: the first answer wins, the other device ends otherDeviceAnswered', async () => {
    const user = uniqueUser('bob');
    const phone = await startClient(user);
    const tablet = await startClient(user, { deviceId: 'tablet' });
    const onPhone = nextEvent<Event & { call: Call }>(phone, 'incomingcall', 10_000);
    const onTablet = nextEvent<Event & { call: Call }>(tablet, 'incomingcall', 10_000);
    const sipp = await executeServerCommand<{ id: string; port: number }, object>('sip-sipp', { action: 'start', scenario: 'uac-call.xml', call: user });
    const answering = (await onPhone).call;
    const other = (await onTablet).call;
    for (const c of [answering, other]) {
      expect(c.callType).to.equal('sip');
      expect(c.remoteUserId).to.equal('sip:sipp@127.0.0.1');
    }
    const otherEnded = nextEvent(other, 'ended', 10_000);
    const established = nextEvent(answering, 'established', 10_000);
    answering.answer();
    await established;
    await otherEnded;
    expect(other.details.endCause).to.equal('otherDeviceAnswered');
    expect(other.details.error).to.equal(undefined);
    const heard = await listen(answering.remoteStream!, 2500); // sipp's echo reaches the device that answered
    expect(heard.peak).to.be.greaterThan(0.01);
    await nextEvent(answering, 'ended', 10_000);
    expect(answering.details.endCause).to.equal('hungUp');
    const result = await executeServerCommand<{ exitCode: number | null }, object>('sip-sipp', { action: 'result', id: sipp.id });
    expect(result.exitCode).to.equal(0);
  });
});
