import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { FakeCallClient, Outcome } from './support/fake-client.js';
import { onFakeClient } from './support/story-helpers.js';

interface Args { outcome: Outcome }

/**
 * The provider shares one client and the current call with every element inside it. These stories put all the
 * elements together on a scripted client: dial anyone (the call walks through its states on timers and ends as
 * chosen in Controls), or use the buttons to make someone call you.
 */
const meta: Meta<Args> = {
  title: 'Elements/call-provider',
  component: 'call-provider',
  args: { outcome: 'answer' },
  argTypes: { outcome: { control: 'select', options: ['answer', 'denied', 'noAnswer', 'unavailable', 'timeout', 'failure'], description: 'How an outgoing call ends (story only).' } },
};
export default meta;
type Story = StoryObj<Args>;

function scripted(outcome: Outcome) {
  let client: FakeCallClient | undefined;
  const ui = html`<div style="display: grid; gap: 0.75rem; max-width: 28rem">
    <call-status></call-status>
    <incoming-call></incoming-call>
    <div style="display: grid; grid-template-columns: 2fr 1fr; gap: 0.5rem"><video-view source="remote"></video-view><video-view source="local"></video-view></div>
    <call-dialer value="bob"></call-dialer>
    <call-controls></call-controls>
  </div>
  <p style="display: flex; gap: 0.5rem; flex-wrap: wrap; margin-top: 1rem">
    <button type="button" @click=${() => client?.ringIn({ id: 'carol', displayName: 'Carol Berg' }, false)}>Carol calls (audio)</button>
    <button type="button" @click=${() => client?.ringIn({ id: 'dave', displayName: 'Dave Nyström' }, true)}>Dave calls (video)</button>
    <button type="button" @click=${() => { const c = client?.currentCall; c?.setRemote(!c.isRemoteMuted, c.isRemoteVideoPaused); }}>Other side: toggle mute</button>
    <button type="button" @click=${() => client?.currentCall?.hangup()}>Other side hangs up</button>
  </p>`;
  return onFakeClient({ outcome }, ui, (c) => { client = c; });
}

export const WholeUi: Story = { name: 'All elements (scripted)', render: (args) => scripted(args.outcome) };
export const CallDeclined: Story = { name: 'All elements — calls are declined', args: { outcome: 'denied' }, render: (args) => scripted(args.outcome) };
