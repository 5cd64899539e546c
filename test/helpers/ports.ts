/** The tests take their ports where chaos and bench do. */
export { findFreePorts, isPortFree } from '../../lib/util/free-ports.ts';
