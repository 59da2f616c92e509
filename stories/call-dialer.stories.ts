import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import type { CallDialerElement, DialMode } from '../src/index.js';
import type { FakeClientOptions } from './support/fake-client.js';
import { onFakeClient, settle } from './support/story-helpers.js';

interface Args { mode: DialMode; modes: string; video: boolean; value: string; submit: boolean; client: FakeClientOptions }

const meta: Meta<Args> = {
  title: 'Elements/call-dialer',
  component: 'call-dialer',
  args: { mode: 'user', modes: 'user phone sip conference', video: false, value: '', submit: false, client: {} },
  argTypes: {
    mode: { control: 'inline-radio', options: ['user', 'phone', 'sip', 'conference'] },
    value: { control: 'text', description: 'Typed into the destination field (story only).' },
    submit: { control: 'boolean', description: 'Press Call after typing (story only).' },
    client: { table: { disable: true } },
  },
  render: (args) => onFakeClient(args.client, html`<call-dialer mode=${args.mode} modes=${args.modes} ?video=${args.video}></call-dialer>`),
  // Types the value and presses Call, as a user would, so validation messages show.
  play: async ({ canvasElement, args }) => {
    const dialer = canvasElement.querySelector<CallDialerElement>('call-dialer');
    if (!dialer) return;
    await settle();
    if (args.value) dialer.value = args.value;
    await dialer.updateComplete;
    if (args.submit) dialer.dial();
  },
};
export default meta;
type Story = StoryObj<Args>;

export const Idle: Story = {};
export const Offline: Story = { args: { client: { connectionState: 'disconnected', startError: undefined } } };
export const UserValid: Story = { name: 'User — valid', args: { value: 'bob' } };
export const UserVideo: Story = { name: 'User — video', args: { value: 'bob', video: true } };
export const UserInvalid: Story = { name: 'User — invalid', args: { value: 'bob smith!', submit: true } };
export const PhoneValid: Story = { name: 'Phone — valid', args: { mode: 'phone', value: '+46 70 123 45 67' } };
export const PhoneInvalid: Story = { name: 'Phone — invalid', args: { mode: 'phone', value: '0701234', submit: true } };
export const SipValid: Story = { name: 'SIP — valid', args: { mode: 'sip', value: 'reception@example.com' } };
export const SipInvalid: Story = { name: 'SIP — invalid', args: { mode: 'sip', value: 'not a sip address', submit: true } };
export const ConferenceValid: Story = { name: 'Conference — valid', args: { mode: 'conference', value: 'team-standup' } };
export const ConferenceInvalid: Story = { name: 'Conference — invalid', args: { mode: 'conference', value: 'team standup!', submit: true } };
export const OnlyPhone: Story = { name: 'Only phone calls', args: { modes: 'phone', mode: 'phone' } };
export const Busy: Story = { name: 'During a call (disabled)', args: { client: { call: { state: 'established' } } } };
