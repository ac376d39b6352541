import { packageConfig } from '../../tsup.base.js';

export default packageConfig({ main: 'src/main.ts' });
