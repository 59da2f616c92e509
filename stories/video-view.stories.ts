import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { FakeClientOptions } from './support/fake-client.js';
import { onFakeClient } from './support/story-helpers.js';

interface Args { source: 'remote' | 'local'; fit: 'cover' | 'contain'; client: FakeClientOptions }

const meta: Meta<Args> = {
  title: 'Elements/video-view',
  component: 'video-view',
  args: { source: 'remote', fit: 'cover', client: { call: { state: 'established', video: true } } },
  argTypes: {
    source: { control: 'inline-radio', options: ['remote', 'local'] },
    fit: { control: 'inline-radio', options: ['cover', 'contain'] },
    client: { table: { disable: true } },
  },
  render: (args) => onFakeClient(args.client, html`<video-view style="max-width: 24rem" source=${args.source} fit=${args.fit}></video-view>`),
};
export default meta;
type Story = StoryObj<Args>;

export const RemoteVideo: Story = { name: 'Remote video' };
export const LocalVideo: Story = { name: 'Local camera (mirrored)', args: { source: 'local' } };
export const NoCall: Story = { name: 'No call (placeholder)', args: { client: {} } };
export const AudioCall: Story = { name: 'Audio call (initials)', args: { client: { call: { state: 'established' } } } };
export const RemoteCameraOff: Story = { name: 'Remote camera off', args: { client: { call: { state: 'established', video: true, remoteVideoPaused: true } } } };
export const LocalCameraOff: Story = { name: 'Local camera off', args: { source: 'local', client: { call: { state: 'established', video: true, videoPaused: true } } } };
export const RemoteScreen: Story = {
  name: 'Remote screen share (shown whole, whatever fit says)',
  args: { client: { call: { state: 'established', video: true, remoteScreenSharing: true } } },
};
