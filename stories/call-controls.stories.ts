import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { FakeClientOptions } from './support/fake-client.js';
import { onFakeClient, settle } from './support/story-helpers.js';

interface Args { client: FakeClientOptions; keypad: boolean }

const meta: Meta<Args> = {
  title: 'Elements/call-controls',
  component: 'call-controls',
  args: { keypad: false, client: { call: { state: 'established' } } },
  argTypes: { client: { table: { disable: true } }, keypad: { description: 'Open the DTMF keypad (story only).' } },
  render: (args) => onFakeClient(args.client, html`<call-controls></call-controls>`),
  play: async ({ canvasElement, args }) => {
    if (!args.keypad) return;
    await settle();
    canvasElement.querySelector('call-controls')?.shadowRoot?.querySelector<HTMLButtonElement>('[part~="keypad-button"]')?.click();
  },
};
export default meta;
type Story = StoryObj<Args>;

export const NoCall: Story = { name: 'No call (disabled)', args: { client: {} } };
export const AudioCall: Story = { name: 'Audio call' };
export const VideoCall: Story = { name: 'Video call (microphone, camera and speaker menus)', args: { client: { call: { state: 'established', video: true } } } };
export const Muted: Story = { args: { client: { call: { state: 'established', video: true, muted: true } } } };
export const CameraOff: Story = { name: 'Camera off', args: { client: { call: { state: 'established', video: true, videoPaused: true } } } };
export const PhoneCallKeypad: Story = { name: 'Phone call with keypad', args: { keypad: true, client: { call: { state: 'established', callType: 'phone', remote: { id: '+46701234567' } } } } };
export const Ringing: Story = { name: 'Ringing out', args: { client: { call: { state: 'ringing' } } } };
export const OnHold: Story = { name: 'On hold', args: { client: { call: { state: 'established', onHold: true } } } };
export const TwoCalls: Story = {
  name: 'Two calls (Swap)',
  args: { client: { call: { state: 'established', onHold: true }, second: { state: 'established', direction: 'incoming', remote: { id: 'carol', displayName: 'Carol Nyström' } } } },
};
export const SharingScreen: Story = { name: 'Sharing the screen', args: { client: { call: { state: 'established', video: true, screenSharing: true } } } };
export const OneDeviceEach: Story = {
  name: 'One device of each (no menus)',
  args: { client: { call: { state: 'established', video: true }, devices: { audioInput: [], videoInput: [], audioOutput: [] } } },
};
