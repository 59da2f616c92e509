// Swedish as a lazy chunk (see elements/index.ts): pages in English never fetch it.
export { default } from './sv.js';
