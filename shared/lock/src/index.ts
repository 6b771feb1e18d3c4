export { createDistributedLock, type DistributedLock, type DistributedLockOptions, type LockHandle } from './distributed-lock.js';
export { nextFence, fencedWrite, readFenced, type FencedWrite } from './fencing.js';
