// The lazily loaded quality chunk: stats summaries and quality warnings are needed only once a call is established
// (or an app asks for `getStats()`), so they do not weigh on the first paint. quality.ts imports nothing, so this
// chunk shares no class with the main bundle.
export { pollQuality, QualityWatch, summarizeStats } from './quality.js';
