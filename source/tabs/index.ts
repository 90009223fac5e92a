// Every tab's definition, one file each: a new tab is a file here, its line below and its place in
// source/registry.ts's DEFINITIONS.
export {malloc} from './malloc.js';
export {brk} from './brk.js';
export {slab} from './slab.js';
export {majfault} from './majfault.js';
export {anonpgin} from './anonpgin.js';
export {minfault} from './minfault.js';
export {reclaim} from './reclaim.js';
export {growth} from './growth.js';
