import { css } from 'lit';

export const styles = css`
  :host { position: relative; overflow: hidden; aspect-ratio: var(--call-video-aspect-ratio, 4 / 3); border-radius: var(--_radius); background: var(--call-video-background, #1d232a); }
  [part='video'] { display: block; width: 100%; height: 100%; object-fit: cover; }
  :host([fit='contain']) [part='video'] { object-fit: contain; }
  :host([source='local']:not([mirror='false'])) [part='video'] { transform: scaleX(-1); }
  :host([source]) [part='video'].screen { object-fit: contain; transform: none; }
  [part='video'][hidden] { display: none; }
  [part='placeholder'] {
    position: absolute; inset: 0; display: grid; place-items: center;
    background: var(--call-video-background, #1d232a);
  }
  [part='initials'] {
    display: grid; place-items: center; width: 5rem; height: 5rem; border-radius: 50%;
    background: var(--call-video-placeholder-color, #545d68); color: #fff; font-size: 2rem; font-weight: 600;
  }
  [part='initials'] svg { width: 2.25rem; height: 2.25rem; }
  [part='pip-button'] { position: absolute; right: var(--_space); bottom: var(--_space); }
`;
