// The throwaway PostgreSQL cluster lives with the local-cluster tooling (`npm run cluster` uses it too).
export { postgresMissing, startPostgres, freePort, type ThrowawayPostgres } from '../../src/server/cluster/local.js';
