import type { Meta, StoryObj } from '@storybook/web-components-vite';
import { html } from 'lit';
import { ref } from 'lit/directives/ref.js';
import type { CallWidgetElement, WidgetPosition } from '../src/index.js';
import { asCallClient, FakeCallClient, type FakeClientOptions } from './support/fake-client.js';

interface Args { position: WidgetPosition; modes: string; video: boolean; open: boolean; client: FakeClientOptions; ringIn: 'no' | 'audio' | 'video' }

/**
 * The one-tag embed. On a page it gets `server`, `user-id` and `token-url`; here it runs on the scripted client
 * given through its `client` property. Dial `bob` to see a call go through; the "Incoming" stories ring in.
 */
const meta: Meta<Args> = {
  title: 'Widget/call-widget',
  component: 'call-widget',
  args: { position: 'bottom-right', modes: 'user phone sip conference', video: true, open: false, ringIn: 'no', client: {} },
  argTypes: {
    position: { control: 'select', options: ['bottom-right', 'bottom-left', 'top-right', 'top-left'] },
    ringIn: { control: 'inline-radio', options: ['no', 'audio', 'video'], description: 'Someone calls shortly after the story loads (story only).' },
    client: { table: { disable: true } },
  },
  // The widget is position: fixed: in the docs page each story gets its own frame.
  parameters: { layout: 'fullscreen', docs: { story: { inline: false, iframeHeight: 640 } } },
  render: (args) => {
    const client = new FakeCallClient(args.client);
    return html`<div style="min-height: 36rem"><p>The page's own content. The widget sits in the ${args.position} corner.</p>
      <call-widget position=${args.position} modes=${args.modes} ?video=${args.video} ?open=${args.open} ${ref((el) => {
        if (!el) return;
        (el as CallWidgetElement).client = asCallClient(client);
        if (args.ringIn !== 'no') setTimeout(() => client.ringIn({ id: 'bob', displayName: 'Bob Lindqvist' }, args.ringIn === 'video'), 400);
      })}></call-widget></div>`;
  },
};
export default meta;
type Story = StoryObj<Args>;

export const Closed: Story = {};
export const Open: Story = { args: { open: true } };
export const TopLeft: Story = { name: 'Top left, user calls only', args: { open: true, position: 'top-left', modes: 'user' } };
export const AudioOnly: Story = { name: 'Audio only (no video attribute)', args: { open: true, video: false, modes: 'user' } };
export const IncomingAudio: Story = { name: 'Incoming audio call pops it open', args: { ringIn: 'audio' } };
export const IncomingVideo: Story = { name: 'Incoming video call pops it open', args: { ringIn: 'video' } };
export const InVideoCall: Story = { name: 'In a video call', args: { open: true, client: { call: { state: 'established', video: true, elapsed: 42 } } } };
export const Offline: Story = { name: 'Offline', args: { open: true, client: { connectionState: 'reconnecting' } } };
