import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { CallingError, type CallEndCause } from '../src/index.js';
import type { FakeClientOptions } from './support/fake-client.js';
import { onFakeClient } from './support/story-helpers.js';

interface Args { client: FakeClientOptions }

const meta: Meta<Args> = {
  title: 'Elements/call-status',
  component: 'call-status',
  argTypes: { client: { table: { disable: true } } },
  render: (args) => onFakeClient(args.client, html`<call-status></call-status>`),
};
export default meta;
type Story = StoryObj<Args>;

export const Ready: Story = { args: { client: {} } };
export const Connecting: Story = { args: { client: { connectionState: 'connecting' } } };
export const Reconnecting: Story = { args: { client: { connectionState: 'reconnecting' } } };
export const Disconnected: Story = {
  name: 'Disconnected (server unreachable)',
  args: { client: { connectionState: 'disconnected', startError: new CallingError('network', 'server-unreachable', 'Could not reach the calling server.') } },
};
export const Progressing: Story = { name: 'Calling (progressing)', args: { client: { call: { state: 'progressing' } } } };
export const RingingOut: Story = { name: 'Ringing out', args: { client: { call: { state: 'ringing' } } } };
export const Incoming: Story = { name: 'Incoming', args: { client: { call: { state: 'ringing', direction: 'incoming' } } } };
export const Answered: Story = { name: 'Answered (connecting media)', args: { client: { call: { state: 'answered' } } } };
export const Established: Story = { name: 'Established (timer)', args: { client: { call: { state: 'established', elapsed: 75 } } } };
export const OnHold: Story = { name: 'On hold (this side holds)', args: { client: { call: { state: 'established', onHold: true, elapsed: 95 } } } };
export const RemoteOnHold: Story = { name: 'Held by the other side', args: { client: { call: { state: 'established', remoteOnHold: true, elapsed: 40 } } } };
export const TwoCalls: Story = {
  name: 'Two calls: one going on, one held',
  args: { client: { call: { state: 'established', onHold: true, elapsed: 310 }, second: { state: 'established', direction: 'incoming', remote: { id: 'carol', displayName: 'Carol Nyström' }, elapsed: 25 } } },
};
export const RemoteMuted: Story = { name: 'Other side muted', args: { client: { call: { state: 'established', remoteMuted: true, elapsed: 12 } } } };

const ended = (endCause: CallEndCause, error?: CallingError): Story => ({
  name: `Ended — ${endCause}${error ? ' (error)' : ''}`,
  args: { client: { call: { state: 'ended', endCause, ...(error ? { error } : {}) } } },
});
export const EndedHungUp = ended('hungUp');
export const EndedDenied = ended('denied');
export const EndedCanceled = ended('canceled');
export const EndedNoAnswer = ended('noAnswer');
export const EndedUnavailable = ended('unavailable');
export const EndedTimeout = ended('timeout');
export const EndedFailure = ended('failure', new CallingError('network', 'ice-failed', 'The media connection failed.'));
export const EndedOtherDevice = ended('otherDeviceAnswered');
export const EndedGatewayError = ended('failure', new CallingError('sip', 'busy-here', 'The number is busy (486 Busy Here).', { sipStatus: 486, sipReason: 'Busy Here' }));
