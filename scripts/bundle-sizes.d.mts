import type { Metafile } from 'esbuild';

export interface Size { bytes: number; gzip: number }
export interface OutputSize extends Size { file: string; firstLoad: boolean; inputs: Metafile['outputs'][string]['inputs'] }
export const ENTRY: string;
export function bundleSizes(metafile: Metafile, entry?: string): { firstLoad: Size; total: Size; files: OutputSize[] };
export function readBundleMeta(): Metafile;
