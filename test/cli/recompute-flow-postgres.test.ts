import { postgresBackend } from '../store/backends.js';
import { describeDatabasePath } from './recompute-flow.js';

describeDatabasePath(postgresBackend);
