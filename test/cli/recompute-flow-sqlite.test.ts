import { sqliteBackend } from '../store/backends.js';
import { describeDatabasePath } from './recompute-flow.js';

describeDatabasePath(sqliteBackend);
