import type { Plugin } from 'esbuild';
export declare const browserAliases: Record<string, string>;
export declare const peerjsFixPlugin: Plugin;
