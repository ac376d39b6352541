import { packageConfig } from '../../tsup.base.js';

// A program, not a library: one ESM entry behind its `bin`.
export default packageConfig({ main: 'src/main.ts' }, { formats: ['esm'] });
