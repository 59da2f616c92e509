import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { FakeClientOptions } from './support/fake-client.js';
import { onFakeClient } from './support/story-helpers.js';

interface Args { client: FakeClientOptions }

const meta: Meta<Args> = {
  title: 'Elements/incoming-call',
  component: 'incoming-call',
  argTypes: { client: { table: { disable: true } } },
  render: (args) => onFakeClient(args.client, html`<incoming-call></incoming-call>`),
};
export default meta;
type Story = StoryObj<Args>;

const ringing = { direction: 'incoming', state: 'ringing' } as const;

export const AudioCall: Story = { name: 'Incoming audio call', args: { client: { call: { ...ringing } } } };
export const VideoCall: Story = { name: 'Incoming video call', args: { client: { call: { ...ringing, video: true } } } };
export const LongName: Story = {
  name: 'Long caller name',
  args: { client: { call: { ...ringing, remote: { id: 'x', displayName: 'Maximiliana Wilhelmina Öberg-Fredriksson (Reception, Stockholm office)' } } } },
};
export const AutoplayBlocked: Story = { name: 'Autoplay blocked', args: { client: { autoplayBlocked: true, call: { ...ringing } } } };
export const CallWaiting: Story = {
  name: 'Call waiting (during another call)',
  args: { client: { call: { state: 'established', elapsed: 64 }, second: { ...ringing, remote: { id: 'carol', displayName: 'Carol Nyström' } } } },
};
