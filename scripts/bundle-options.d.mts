import type { BuildOptions, Metafile } from 'esbuild';

export const browserBundle: BuildOptions;
export const elementsBundle: BuildOptions & { metafile: true };
export const lazyChunkOutputs: Map<string, Metafile['outputs'][string]>;
