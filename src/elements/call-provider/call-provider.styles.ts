import { css } from 'lit';

export const styles = css`
  :host { color: inherit; }
  audio { display: none; }
`;
